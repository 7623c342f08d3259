"""A third language by data alone (issue 14, item 6): a German content pack and a German
catalogue, written here into temporary folders, make a German consent session whose pages are
German, with no Python file of the application changed."""

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from consent.models import ConsentSession, ProcedureVersion
from consent_site.languages import interface_languages
from tests.factories import MITRACLIP_PATH, logged_in, mitraclip_version, patient_client, physician

pytestmark = pytest.mark.django_db

GERMAN_TITLE = "MitraClip: eine undichte Mitralklappe ohne Operation am offenen Herzen reparieren"
GERMAN_SECTION = "Ihr Herz und die Mitralklappe"
GERMAN_BODY = "Ihr Herz ist ein Muskel, der wie eine Pumpe arbeitet."
# The interface strings of the first pages, in a catalogue of their own.
GERMAN_INTERFACE = {
    "Start reading": "Mit dem Lesen beginnen",
    "What happens here": "Was hier geschieht",
    "Save and leave": "Speichern und verlassen",
    "Next": "Weiter",
}


def german_pack(folder: Path) -> Path:
    """The English pack with its language, its link to its source and some prose in German."""
    text = MITRACLIP_PATH.read_text(encoding="utf-8")
    for english, german in (
        (
            'language = "en"',
            'language = "de"\ntranslation_of = { language = "en", version = "2026.2" }',
        ),
        (
            'title = "MitraClip: repairing a leaking mitral valve without open-heart surgery"',
            f'title = "{GERMAN_TITLE}"',
        ),
        ('title = "Your heart and the mitral valve"', f'title = "{GERMAN_SECTION}"'),
        ("Your heart is a muscle that works like a pump.", GERMAN_BODY),
    ):
        assert text.count(english) == 1, english
        text = text.replace(english, german)
    path = folder / "mitraclip.de.toml"
    path.write_text(text, encoding="utf-8")
    return path


def german_catalogue(folder: Path) -> Path:
    """locale/de/LC_MESSAGES/django.mo, compiled by Babel from the strings above."""
    catalog = Catalog(locale="de", domain="django")
    for english, german in GERMAN_INTERFACE.items():
        catalog.add(english, german)
    messages = folder / "de" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    with (messages / "django.mo").open("wb") as mo:
        write_mo(mo, catalog)
    return folder


@pytest.fixture
def german(tmp_path):
    locale = german_catalogue(tmp_path / "locale")
    paths = [locale, *settings.LOCALE_PATHS]
    with override_settings(
        LOCALE_PATHS=paths, LANGUAGES=interface_languages(paths, settings.LANGUAGE_CODE)
    ):
        english = mitraclip_version()
        call_command("import_pack", str(german_pack(tmp_path)), verbosity=0)
        yield english


def test_the_catalogue_alone_adds_german_to_the_interface_languages(german):
    assert ("de", "Deutsch") in settings.LANGUAGES


def test_a_german_session_made_by_staff_reads_in_german(german):
    version = ProcedureVersion.objects.get(language="de")
    assert version.translation_of == german
    doctor = physician()
    staff = logged_in(doctor)
    form = staff.get("/staff/sessions/new/").content.decode()
    assert "German (Deutsch)" in form
    response = staff.post(
        "/staff/sessions/new/",
        {
            "patient_name": "Hans Beispiel",
            "patient_birth_date": "1948-03-27",
            "procedure_version": german.pk,
            "language": "de",
            "physician": doctor.pk,
        },
    )
    assert response.status_code == 302
    session = ConsentSession.objects.get(patient_name="Hans Beispiel")
    assert session.procedure_version == version

    patient = patient_client(session)
    start = patient.get("/patient/start/").content.decode()
    assert '<html lang="de">' in start
    assert GERMAN_TITLE in start
    assert "Was hier geschieht" in start
    assert "Mit dem Lesen beginnen" in start
    assert "Start reading" not in start
    # Before reading, the patient sees the languages by their own names.
    assert ">Deutsch</span>" in start and 'lang="en">English</button>' in start

    section = patient.get("/patient/section/1/").content.decode()
    assert '<html lang="de">' in section
    assert GERMAN_SECTION in section
    assert GERMAN_BODY in section
    assert "Speichern und verlassen" in section
