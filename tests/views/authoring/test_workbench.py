"""The content editors' workbench through the test client: upload a pack, see every error with
its line, upload the fixed file, read the reading level, preview it as a patient, compare it with
the version in use, and publish it once."""

import re
import uuid
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from consent.models import AuditEvent, ConsentSession, PackDraft, ProcedureVersion
from consent.services.authoring import MAX_PACK_BYTES
from tests.factories import (
    MITRACLIP_PATH,
    auditor,
    consent_session,
    logged_in,
    mitraclip_version,
    patient_client,
    physician,
)
from tests.workbench import (
    ADDED_QUESTION_KEY,
    ADDED_QUESTION_PROMPT,
    NEW_VERSION,
    changed_pack,
    content_editor,
    line_of,
    mitraclip_text,
)

pytestmark = pytest.mark.django_db

HOME = "/authoring/"


def upload(client: Client, text: str, name: str = "mitraclip.en.toml"):
    return client.post(HOME, {"file": SimpleUploadedFile(name, text.encode("utf-8"))})


def text_of(response) -> str:
    """The page's text, tags taken out, spaces collapsed: what a reader sees."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def draft_url(draft: PackDraft, page: str = "") -> str:
    return f"/authoring/drafts/{draft.pk}/{page}"


@pytest.fixture
def editor_client() -> Client:
    return logged_in(content_editor())


def uploaded(editor_client: Client, text: str) -> PackDraft:
    response = upload(editor_client, text)
    assert response.status_code == 302
    draft = PackDraft.objects.latest("pk")
    assert response["Location"] == draft_url(draft)
    return draft


# Access, for each role


def test_only_content_editors_get_in():
    mitraclip_version()
    editor = content_editor()
    draft = uploaded(logged_in(editor), changed_pack())
    pages = [
        HOME,
        draft_url(draft),
        draft_url(draft, "readability/"),
        draft_url(draft, "changes/"),
        draft_url(draft, "preview/en/"),
        draft_url(draft, "preview/en/section/1/"),
        draft_url(draft, "preview/en/question/1/"),
        draft_url(draft, "preview/en/summary/"),
        draft_url(draft, "preview/en/decision/"),
    ]
    patient = patient_client(consent_session())
    for url in pages:
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
        # A patient's browser is no staff log-in: the log-in page, nothing of the workbench.
        from_patient = patient.get(url)
        assert from_patient.status_code == 302
        assert from_patient["Location"].startswith("/accounts/login/")
        assert logged_in(physician(username=f"dr.{abs(hash(url))}")).get(url).status_code == 403
        assert logged_in(auditor(username=f"aud.{abs(hash(url))}")).get(url).status_code == 403
        assert logged_in(editor).get(url).status_code == 200, url
    keep_alive = draft_url(draft, "preview/en/keep-alive/")
    assert logged_in(physician(username="dr.keep")).post(keep_alive).status_code == 403
    publish = draft_url(draft, "publish/")
    assert logged_in(physician(username="dr.publish")).post(publish).status_code == 403
    assert logged_in(auditor(username="aud.publish")).post(publish).status_code == 403
    assert Client().post(publish).status_code == 302
    assert not PackDraft.objects.filter(status=PackDraft.Status.PUBLISHED).exists()


def test_a_content_editor_lands_on_the_workbench_after_logging_in():
    from tests.views.test_auth import log_in

    editor = content_editor()
    client = Client()
    response = log_in(client, editor)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/second-factor/?next=%2Fauthoring%2F"
    doctor = physician()
    assert log_in(Client(), doctor)["Location"] == "/accounts/second-factor/?next=%2Fstaff%2F"


# Upload, errors with their lines, and the fixed file


def test_every_error_is_shown_with_its_line_and_the_lines_around_it(editor_client):
    text = changed_pack(errors=True)
    draft = uploaded(editor_client, text)
    page = editor_client.get(draft_url(draft))
    shown = text_of(page)
    assert page.status_code == 200
    assert "2 errors to fix" in shown
    figure_line = line_of(text, 'max_per_100 = "2"')
    section_line = line_of(text, 'section = "risk"', after='key = "stroke-figure"')
    assert (
        f'Line {figure_line} risks[2] (key "stroke"): field "max_per_100" must be a number, '
        "not text" in shown
    )
    assert (
        f'Line {section_line} questions[16] (key "stroke-figure"): field "section" "risk" '
        "names no section of this pack" in shown
    )
    # The offending line with its neighbours, each numbered.
    assert f'{figure_line} max_per_100 = "2"' in shown
    assert f'{figure_line - 1} frequency_text = "up to 2 in 100 people"' in shown
    assert f"{section_line} section = &quot;risk&quot;" not in shown  # shown as text, not HTML
    assert "Upload the corrected file" in shown
    assert "Publish version" not in shown
    event = AuditEvent.objects.get(action="pack.uploaded")
    assert event.actor.username == "editor" and event.role == "content_editor"
    assert event.payload == {
        "file": "mitraclip.en.toml",
        "sha256": draft.sha256,
        "bytes": len(text.encode()),
        "valid": False,
        "problems": 2,
    }


def test_a_toml_syntax_error_names_its_line(editor_client):
    text = mitraclip_text().replace('slug = "mitraclip"', "slug = mitraclip", 1)
    draft = uploaded(editor_client, text)
    shown = text_of(editor_client.get(draft_url(draft)))
    line = line_of(text, "slug = mitraclip")
    assert "1 error to fix" in shown
    assert f"Line {line} is not valid TOML: Invalid value (at line {line}, column 8)" in shown


def test_uploading_the_fixed_file_clears_the_errors(editor_client):
    uploaded(editor_client, changed_pack(errors=True))
    draft = uploaded(editor_client, changed_pack())
    shown = text_of(editor_client.get(draft_url(draft)))
    assert "No errors: this pack follows the format." in shown
    assert "errors to fix" not in shown
    assert f"Publish version {NEW_VERSION}" in shown
    # Both uploads are kept, each as uploaded.
    assert PackDraft.objects.count() == 2
    assert bytes(draft.data).decode() == changed_pack()


def test_a_file_too_large_or_missing_is_refused_and_nothing_is_kept(editor_client):
    response = upload(editor_client, "#" * (MAX_PACK_BYTES + 1))
    assert response.status_code == 400
    assert "a content pack may be at most 512" in text_of(response)
    response = editor_client.post(HOME, {})
    assert response.status_code == 400
    assert "Choose a content pack file (.toml) to upload." in text_of(response)
    assert not PackDraft.objects.exists()
    assert not AuditEvent.objects.filter(action="pack.uploaded").exists()


def test_the_pack_warnings_are_shown_with_their_lines(editor_client):
    text = changed_pack().replace(
        '"To fix a heartbeat that is too fast",', '"All of the above",', 1
    )
    draft = uploaded(editor_client, text)
    shown = text_of(editor_client.get(draft_url(draft)))
    line = line_of(text, "choices = [", after='key = "purpose"')
    assert "No errors: this pack follows the format." in shown
    assert "1 warning" in shown
    assert (
        f'Line {line} questions[0] (key "purpose"): warning [all-or-none-of-the-above]: the '
        "choice “All of the above” refers to the other choices" in shown
    )
    assert f"Publish version {NEW_VERSION}" in shown  # a warning does not stop publishing


# Readability


def test_the_reading_level_is_shown_for_every_section(editor_client):
    draft = uploaded(editor_client, changed_pack())
    page = editor_client.get(draft_url(draft, "readability/"))
    shown = text_of(page)
    assert page.status_code == 200
    version = mitraclip_version()
    for section in version.sections.all():
        assert section.title in shown
    assert "Flesch-Kincaid grade" in shown
    assert "Targets: Flesch-Kincaid grade at most 6 everywhere" in shown


# Changes from the version in use


def test_the_changes_name_the_changed_figure_the_wording_and_the_added_question(editor_client):
    mitraclip_version()
    draft = uploaded(editor_client, changed_pack())
    page = editor_client.get(draft_url(draft, "changes/"))
    html = page.content.decode()
    shown = text_of(page)
    assert f"What changes from version 2026.2 (in use) to version {NEW_VERSION}" in shown
    assert "version : 2026.2 → 2026.3" in shown
    assert "Changed Stroke stroke" in shown
    assert "max_per_100 : 1 → 2" in shown
    assert "figure : fewer-than → up-to" in shown
    # The wording, word by word.
    assert '<del class="word-removed">fewer than 1</del>' in html
    assert '<ins class="word-added">up to 2</ins>' in html
    assert f"Added {ADDED_QUESTION_PROMPT} {ADDED_QUESTION_KEY}" in shown
    assert "Removed" not in shown


def test_with_no_version_in_use_everything_is_new(editor_client):
    draft = uploaded(editor_client, changed_pack())
    shown = text_of(editor_client.get(draft_url(draft, "changes/")))
    assert "No earlier version of this procedure in this language is published" in shown


# Preview, as a patient sees it


def test_the_preview_shows_the_patient_pages_from_the_draft_without_storing_anything(
    editor_client,
):
    draft = uploaded(editor_client, changed_pack())
    before = (ProcedureVersion.objects.count(), ConsentSession.objects.count())
    start = editor_client.get(draft_url(draft, "preview/en/"))
    shown = text_of(start)
    assert "Preview: this is what a patient will see" in shown
    assert "MitraClip: repairing a leaking mitral valve" in shown
    assert "Not clinically reviewed: for demonstration only" in shown
    # The patient's own link to the first section leads to the preview's.
    assert f'href="{draft_url(draft, "preview/en/section/1/")}"' in start.content.decode()
    assert 'href="/patient/' not in start.content.decode()

    risks = editor_client.get(draft_url(draft, "preview/en/section/8/"))
    shown = text_of(risks)
    assert "The risks, one by one" in shown
    assert "up to 2 in 100 people" in shown
    assert risks.content.decode().count("<svg") >= 2  # the pictures of 100 people

    question = editor_client.get(draft_url(draft, "preview/en/question/17/"))
    shown = text_of(question)
    assert "Question 17 of 17" in shown
    assert ADDED_QUESTION_PROMPT in shown
    assert (ProcedureVersion.objects.count(), ConsentSession.objects.count()) == before
    events = AuditEvent.objects.filter(action="pack.previewed").order_by("seq")
    assert [e.payload["page"] for e in events] == ["start", "section/8", "question/17"]


def test_a_wrong_answer_in_the_preview_shows_the_re_teach_as_the_patient_would(editor_client):
    draft = uploaded(editor_client, changed_pack())
    url = draft_url(draft, "preview/en/question/17/")
    response = editor_client.post(url, {"round": "1", "answer": "false"})
    shown = text_of(response)
    assert response.status_code == 200
    assert "Not quite. Let's look at this again." in shown
    assert "This is true. Up to 2 in 100 people have a stroke" in shown
    assert "The risks, one by one" in shown  # the section again, with its pictures
    assert f'href="{url}"' in response.content.decode()  # "Try the question again"
    right = text_of(editor_client.post(url, {"round": "1", "answer": "true"}))
    assert "That's right." in right
    assert not ConsentSession.objects.exists()


def test_each_wording_of_a_question_can_be_previewed(editor_client):
    draft = uploaded(editor_client, changed_pack())
    url = draft_url(draft, "preview/en/question/1/")
    first = text_of(editor_client.get(url))
    assert "What is MitraClip for?" in first
    assert "Wording 1 of 2: a re-ask after a re-teach shows the next one." in first
    variant = text_of(editor_client.get(url + "?variant=1"))
    assert "What does MitraClip do to a leaking mitral valve?" in variant
    assert "Wording 2 of 2" in variant
    # A wrong answer to the variant is graded against the variant's own choices.
    response = editor_client.post(url + "?variant=1", {"round": "1", "answer": "true"})
    assert response.status_code == 400  # not a choice of this wording: the page says so
    assert "That answer is not one of the choices shown here" in text_of(response)


def test_sections_back_and_next_walk_the_preview(editor_client):
    draft = uploaded(editor_client, changed_pack())
    url = draft_url(draft, "preview/en/section/2/")
    assert editor_client.post(url, {"go": "next"})["Location"] == draft_url(
        draft, "preview/en/section/3/"
    )
    assert editor_client.post(url, {"go": "back"})["Location"] == draft_url(
        draft, "preview/en/section/1/"
    )
    last = draft_url(draft, "preview/en/section/20/")
    assert editor_client.post(last, {"go": "next"})["Location"] == draft_url(
        draft, "preview/en/question/1/"
    )


def test_a_draft_with_errors_has_no_preview(editor_client):
    draft = uploaded(editor_client, changed_pack(errors=True))
    assert editor_client.get(draft_url(draft, "preview/en/")).status_code == 404
    assert editor_client.get(draft_url(draft, "preview/fr/")).status_code == 404


def test_the_summary_preview_shows_every_question_answered_right(editor_client):
    draft = uploaded(editor_client, changed_pack())
    shown = text_of(editor_client.get(draft_url(draft, "preview/en/summary/")))
    assert "Thank you. Here is your summary." in shown
    assert "Shown as for a patient who answered every question right the first time." in shown
    assert ADDED_QUESTION_PROMPT in shown


def test_the_decision_page_preview_shows_the_recap_and_the_statements(editor_client):
    draft = uploaded(editor_client, changed_pack())
    url = draft_url(draft, "preview/en/decision/")
    response = editor_client.get(url)
    shown = text_of(response)
    assert response.status_code == 200
    assert "Before you decide: the main points" in shown
    assert "Stroke: up to 2 in 100 people" in shown  # its own figure now, out of the group
    assert "Tick each statement to confirm it" in shown
    assert "Nothing can be signed in a preview." in shown
    assert '"/patient/' not in response.content.decode()
    keep_alive = draft_url(draft, "preview/en/keep-alive/")
    assert f'data-keep-alive-url="{keep_alive}"' in response.content.decode()
    assert editor_client.post(keep_alive).status_code == 204
    sent = editor_client.post(url, {"typed_name": "Jeanne Demo"})
    assert sent.status_code == 302 and sent["Location"] == url
    assert not ConsentSession.objects.exists()


# Publishing


def publish_form(draft: PackDraft, **extra: str) -> dict[str, str]:
    return {"publish_key": str(draft.publish_key), **extra}


def test_publishing_imports_the_draft_once_with_its_audit_event(editor_client):
    mitraclip_version()
    draft = uploaded(editor_client, changed_pack())
    url = draft_url(draft, "publish/")
    response = editor_client.post(url, publish_form(draft, unreviewed="on"))
    assert response.status_code == 302
    version = ProcedureVersion.objects.get(version=NEW_VERSION)
    assert version.questions.filter(key=ADDED_QUESTION_KEY).exists()
    assert version.risks.get(key="stroke").max_per_100 == 2
    assert not version.clinically_reviewed
    draft.refresh_from_db()
    assert draft.status == PackDraft.Status.PUBLISHED and draft.published_version == version
    event = AuditEvent.objects.get(action="pack.published")
    assert event.actor.username == "editor"
    assert event.payload == {
        "draft": draft.pk,
        "slug": "mitraclip",
        "language": "en",
        "version": NEW_VERSION,
        "hash": version.content_hash,
        "file_sha256": draft.sha256,
        "reviewed": False,
    }
    shown = text_of(editor_client.get(draft_url(draft)))
    assert f"Published: {version.title} (en), version {NEW_VERSION}." in shown
    assert "Before you publish" not in shown
    # The same form again: nothing more is published.
    again = editor_client.post(url, publish_form(draft, unreviewed="on"))
    assert again.status_code == 302
    assert "This draft was already published; nothing more was done." in text_of(
        editor_client.get(draft_url(draft))
    )
    assert ProcedureVersion.objects.filter(version=NEW_VERSION).count() == 1
    assert AuditEvent.objects.filter(action="pack.published").count() == 1
    # A physician can make a session on it now.
    session = consent_session(version=version)
    assert session.procedure_version.version == NEW_VERSION


def test_an_unreviewed_pack_is_published_only_when_the_editor_says_so(editor_client):
    draft = uploaded(editor_client, changed_pack())
    response = editor_client.post(draft_url(draft, "publish/"), publish_form(draft))
    shown = text_of(response)
    assert response.status_code == 400
    assert "This pack names no clinical reviewer. Tick the box" in shown
    assert not ProcedureVersion.objects.exists()
    assert not AuditEvent.objects.filter(action="pack.published").exists()
    draft.refresh_from_db()
    assert draft.status == PackDraft.Status.DRAFT


def test_a_reviewed_pack_needs_no_acknowledgement(editor_client):
    text = changed_pack().replace(
        "\nschema = 1\n",
        '\nschema = 1\nreviewed_by = "Dr. Ada Review"\nreviewed_on = 2026-11-01\n',
        1,
    )
    draft = uploaded(editor_client, text)
    shown = text_of(editor_client.get(draft_url(draft)))
    assert "Clinically reviewed by Dr. Ada Review on 2026-11-01." in shown
    assert editor_client.post(draft_url(draft, "publish/"), publish_form(draft)).status_code == 302
    version = ProcedureVersion.objects.get(version=NEW_VERSION)
    assert version.clinically_reviewed
    assert AuditEvent.objects.get(action="pack.published").payload["reviewed"] is True


def test_a_version_already_published_with_other_content_is_refused_and_nothing_stored(
    editor_client,
):
    mitraclip_version()  # 2026.2
    changed = changed_pack().replace(f'version = "{NEW_VERSION}"', 'version = "2026.2"', 1)
    draft = uploaded(editor_client, changed)
    shown = text_of(editor_client.get(draft_url(draft)))
    assert "Version 2026.2 of this procedure in this language is already published" in shown
    response = editor_client.post(
        draft_url(draft, "publish/"), publish_form(draft, unreviewed="on")
    )
    shown = text_of(response)
    assert response.status_code == 400
    assert "version 2026.2 is already imported with different content" in shown
    assert ProcedureVersion.objects.count() == 1
    assert not AuditEvent.objects.filter(action="pack.published").exists()
    draft.refresh_from_db()
    assert draft.status == PackDraft.Status.DRAFT


def test_a_draft_with_errors_or_a_forged_key_is_not_published(editor_client):
    broken = uploaded(editor_client, changed_pack(errors=True))
    response = editor_client.post(
        draft_url(broken, "publish/"), publish_form(broken, unreviewed="on")
    )
    assert response.status_code == 400
    assert "This pack has errors, so it cannot be published" in text_of(response)
    good = uploaded(editor_client, changed_pack())
    forged = {"publish_key": str(uuid.uuid4()), "unreviewed": "on"}
    response = editor_client.post(draft_url(good, "publish/"), forged)
    assert response.status_code == 400
    assert "This form is out of date" in text_of(response)
    assert not ProcedureVersion.objects.exists()


# Translations


FRENCH_PATH = MITRACLIP_PATH.with_name("mitraclip.fr.toml")


def test_a_translation_is_previewed_in_its_language_beside_its_source(editor_client):
    english = mitraclip_version()
    text = FRENCH_PATH.read_text(encoding="utf-8")
    draft = uploaded(editor_client, text)
    shown = text_of(editor_client.get(draft_url(draft)))
    assert "No errors: this pack follows the format." in shown
    assert "Preview (fr)" in shown and "Preview (en)" in shown
    french = editor_client.get(draft_url(draft, "preview/fr/section/1/"))
    assert '<html lang="fr">' in french.content.decode()
    assert english.sections.first().title not in text_of(french)
    source = editor_client.get(draft_url(draft, "preview/en/section/1/"))
    assert '<html lang="en">' in source.content.decode()
    assert english.sections.first().title in text_of(source)
    # The language switch keeps the page: section 1 in English.
    switch = f'href="{draft_url(draft, "preview/en/section/1/")}" hreflang="en"'
    assert switch in french.content.decode()
    # The banner speaks the editor's language inside the French page.
    assert 'class="preview-banner' in french.content.decode()
    assert 'lang="en"' in french.content.decode().split('class="preview-banner')[1][:400]
    readability = text_of(editor_client.get(draft_url(draft, "readability/")))
    assert "Kandel-Moles reading ease" in readability


def test_a_translation_whose_right_answer_differs_from_its_source_is_an_error_with_its_line(
    editor_client,
):
    mitraclip_version()
    source = FRENCH_PATH.read_text(encoding="utf-8")
    text = source.replace("correct = true", "correct = false", 1)
    line = source[: source.index("correct = true")].count("\n") + 1
    draft = uploaded(editor_client, text)
    shown = text_of(editor_client.get(draft_url(draft)))
    assert "1 error to fix" in shown
    assert re.search(
        rf"Line {line} questions\[\d+\] \(key \"[a-z-]+\"\): .*the source has true", shown
    )
    assert f"{line} correct = false" in shown
    assert "Publish version" not in shown
    response = editor_client.post(
        draft_url(draft, "publish/"), publish_form(draft, unreviewed="on")
    )
    assert response.status_code == 400
    assert ProcedureVersion.objects.filter(language="fr").count() == 0
