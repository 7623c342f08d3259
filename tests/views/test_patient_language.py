"""The patient's language: chosen by staff when they create the session, switched by the
patient on the first page before reading anything, pinned from then on."""

import re

import pytest
from django.test import Client

from consent.models import AuditEvent, ConsentSession
from tests.factories import (
    FRENCH_SECTION_TITLE,
    FRENCH_TITLE,
    auditor,
    consent_session,
    logged_in,
    mitraclip_version,
    patient_client,
    physician,
    right_answer,
    submit,
    translated_version,
)

pytestmark = pytest.mark.django_db

NEW = "/staff/sessions/new/"
SWITCH = "/patient/language/"


def new_session_data(doctor, version, **changes) -> dict:
    return {
        "patient_name": "Paul Nouveau",
        "patient_birth_date": "1950-06-01",
        "patient_record_number": "MRN-9",
        "procedure_version": version.pk,
        "language": "fr",
        "physician": doctor.pk,
        **changes,
    }


# Staff choose the language


def test_the_new_session_form_offers_the_procedures_languages_by_name():
    doctor = physician()
    english = mitraclip_version()
    french = translated_version(source=english)
    body = logged_in(doctor).get(NEW).content.decode()
    # The procedure once (its source text), with its two languages; the translation is not a
    # procedure of its own.
    procedures = body.split('name="procedure_version"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\d+)"', procedures) == [str(english.pk)]
    assert french.pk != english.pk
    assert '<option value="en" selected>English' in body
    assert (
        '<option value="fr">French (Français): not clinically reviewed, for demonstration only'
        in body
    )


def test_a_reviewed_translation_is_offered_without_the_unreviewed_mark():
    doctor = physician()
    translated_version(reviewed=True)
    body = logged_in(doctor).get(NEW).content.decode()
    assert '<option value="fr">French (Français)</option>' in body


def test_staff_create_a_french_session_and_the_event_names_the_language_not_the_patient():
    doctor = physician()
    english = mitraclip_version()
    french = translated_version(source=english)
    response = logged_in(doctor).post(NEW, new_session_data(doctor, english))
    created = ConsentSession.objects.get(patient_name="Paul Nouveau")
    assert response.status_code == 302
    assert created.procedure_version == french
    assert created.language == "fr"
    detail = logged_in(doctor).get(f"/staff/sessions/{created.public_id}/").content.decode()
    assert '<dd class="col-sm-9 patient-language">French (Français)</dd>' in detail
    event = AuditEvent.objects.get(session=created, action="session.created")
    assert event.payload == {"procedure_version": french.content_hash, "language": "fr"}
    assert "Paul" not in str(event.payload)


def test_the_newest_translation_in_a_language_is_pinned():
    doctor = physician()
    english = mitraclip_version()
    translated_version(source=english)
    newer = translated_version(source=english, version="2026.3", title="MitraClip : nouveau")
    logged_in(doctor).post(NEW, new_session_data(doctor, english))
    assert ConsentSession.objects.get(patient_name="Paul Nouveau").procedure_version == newer


def test_a_language_the_procedure_lacks_is_refused_with_its_languages_and_nothing_is_lost():
    doctor = physician()
    english = mitraclip_version()
    translated_version(source=english)
    translated_version(source=english, language="de", title="MitraClip (Deutsch)")
    # Another procedure has German; MitraClip's newest English version has no translation.
    newer = mitraclip_version_copy(english)
    response = logged_in(doctor).post(NEW, new_session_data(doctor, newer, language="de"))
    body = response.content.decode()
    assert response.status_code == 400
    assert (
        "This procedure has no text in German (Deutsch). Choose one of its languages: English."
        in body
    )
    assert 'value="Paul Nouveau"' in body
    assert 'value="MRN-9"' in body
    assert 'value="1950-06-01"' in body
    assert '<option value="de" selected>' in body
    assert not ConsentSession.objects.filter(patient_name="Paul Nouveau").exists()


def test_a_language_no_procedure_has_is_refused():
    doctor = physician()
    english = mitraclip_version()
    response = logged_in(doctor).post(NEW, new_session_data(doctor, english, language="xx"))
    assert response.status_code == 400
    assert "Select a valid choice. xx is not one of the available choices." in (
        response.content.decode()
    )
    assert not ConsentSession.objects.exists()


def test_without_a_language_the_session_is_in_the_procedures_own():
    doctor = physician()
    english = mitraclip_version()
    translated_version(source=english)
    logged_in(doctor).post(NEW, new_session_data(doctor, english, language=""))
    assert ConsentSession.objects.get(patient_name="Paul Nouveau").procedure_version == english


def mitraclip_version_copy(source):
    """Another English version of the procedure, with no translation of its own."""
    import copy

    from consent.content.importing import pack_import
    from consent.content.packs import Pack, content_hash

    content = copy.deepcopy(source.content)
    content["version"] = "2099.1"
    pack = Pack(source_name="copy.toml", content=content, content_hash=content_hash(content))
    return pack_import(packs=[pack])[0].version


# The patient switches on the first page


@pytest.fixture
def french_session():
    english = mitraclip_version()
    translated_version(source=english)
    return consent_session(version=english)


def test_the_first_page_lists_the_languages_by_their_own_names(french_session):
    body = patient_client(french_session).get("/patient/start/").content.decode()
    current = '<span class="btn btn-dark" lang="en" aria-current="true">'
    assert current + '<span aria-hidden="true">✓ </span>English</span>' in body
    assert 'name="language" value="fr" lang="fr">Français</button>' in body


def test_switching_to_french_pins_the_french_version_and_is_audited(french_session):
    patient = patient_client(french_session)
    response = patient.post(SWITCH, {"language": "fr"}, follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == "/patient/start/"
    assert '<html lang="fr">' in body
    assert FRENCH_TITLE in body
    french_session.refresh_from_db()
    assert french_session.language == "fr"
    event = AuditEvent.objects.get(session=french_session, action="session.language_changed")
    assert (event.payload["from"], event.payload["to"]) == ("en", "fr")
    assert event.role == AuditEvent.Role.PATIENT
    assert FRENCH_SECTION_TITLE in patient.get("/patient/section/1/").content.decode()
    # And back: the source text again.
    back = consent_session(
        version=translated_version_of(french_session), doctor=french_session.physician
    )
    patient_two = patient_client(back)
    patient_two.post(SWITCH, {"language": "en"})
    assert ConsentSession.objects.latest("created_at").language == "en"


def translated_version_of(session: ConsentSession):
    session.refresh_from_db()
    return session.procedure_version


def test_no_switch_once_a_section_was_shown(french_session):
    patient = patient_client(french_session)
    patient.get("/patient/section/1/")
    assert "Français" not in patient.get("/patient/start/").content.decode()
    response = patient.post(SWITCH, {"language": "fr"}, follow=True)
    assert "The language can no longer be changed" in response.content.decode()
    french_session.refresh_from_db()
    assert french_session.language == "en"
    assert not AuditEvent.objects.filter(action="session.language_changed").exists()
    shown = AuditEvent.objects.get(session=french_session, action="session.content_shown")
    assert shown.payload == {"language": "en"}


def test_no_switch_once_a_question_was_answered(french_session):
    patient = patient_client(french_session)
    ConsentSession.objects.filter(pk=french_session.pk).update(sections_done=True)
    question = french_session.procedure_version.questions.get(position=1)
    assert submit(patient, 1, right_answer(question)).status_code == 302
    ConsentSession.objects.filter(pk=french_session.pk).update(content_shown_at=None)
    response = patient.post(SWITCH, {"language": "fr"}, follow=True)
    assert "The language can no longer be changed" in response.content.decode()
    french_session.refresh_from_db()
    assert french_session.language == "en"


def test_a_language_the_procedure_lacks_is_refused_with_a_clear_message(french_session):
    patient = patient_client(french_session)
    response = patient.post(SWITCH, {"language": "de"}, follow=True)
    assert "Choose one of the languages shown on this page." in response.content.decode()
    french_session.refresh_from_db()
    assert french_session.language == "en"


def test_a_procedure_with_one_language_shows_no_choice():
    body = patient_client(consent_session()).get("/patient/start/").content.decode()
    assert 'name="language"' not in body


def test_switching_is_the_patients_alone(french_session):
    """Anonymous, staff and auditors (no patient link in their browser) change nothing."""
    doctor = logged_in(french_session.physician)
    for client in (Client(), doctor, logged_in(auditor())):
        response = client.post(SWITCH, {"language": "fr"})
        assert response.status_code == 404
    french_session.refresh_from_db()
    assert french_session.language == "en"


def test_switching_needs_the_csrf_token(french_session):
    patient = Client(enforce_csrf_checks=True)
    patient.cookies = patient_client(french_session).cookies
    assert patient.post(SWITCH, {"language": "fr"}).status_code == 403
    french_session.refresh_from_db()
    assert french_session.language == "en"


def test_switching_is_a_post(french_session):
    assert patient_client(french_session).get(SWITCH).status_code == 405


def test_a_session_from_before_the_note_is_pinned_by_the_sections_it_left(french_session):
    """Sessions made before `content_shown_at` existed: a section left pins them too."""
    patient = patient_client(french_session)
    patient.get("/patient/section/1/")
    patient.post("/patient/section/1/", {"go": "next"})
    ConsentSession.objects.filter(pk=french_session.pk).update(content_shown_at=None)
    assert 'name="language"' not in patient.get("/patient/start/").content.decode()
    response = patient.post(SWITCH, {"language": "fr"}, follow=True)
    assert "The language can no longer be changed" in response.content.decode()


def test_noting_the_content_shown_leaves_a_finalized_session_alone():
    from consent.services.sessions import session_content_shown
    from tests.factories import finalized_session

    session = finalized_session()  # its row is frozen: an update would be refused
    session.content_shown_at = None  # as a session made before the note existed
    session_content_shown(session=session)
    assert not AuditEvent.objects.filter(session=session, action="session.content_shown").exists()


def test_with_several_procedures_the_form_says_which_has_which_language():
    import copy

    from consent.content.importing import pack_import
    from consent.content.packs import Pack, content_hash

    doctor = physician()
    english = mitraclip_version()
    translated_version(source=english, reviewed=True)
    content = copy.deepcopy(english.content)
    content["slug"], content["title"] = "other", "Another procedure"
    pack_import(packs=[Pack("other.en.toml", content, content_hash(content))])
    body = logged_in(doctor).get(NEW).content.decode()
    assert (
        "Another procedure (2026.2): English: not clinically reviewed, for demonstration only."
        in body
    )
    assert (
        "(2026.2): English: not clinically reviewed, for demonstration only; French (Français)."
        in body
    )
