"""The languages offered come from the catalogues: a third one needs only its catalogue."""

import json
import os
import subprocess
import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from django.conf import settings

from consent_site.languages import catalogue_languages, interface_languages, language_name
from tests.i18n.catalogues import LOCALE

# A hospital's German catalogue, as data: two of the interface's strings.
GERMAN = {"Continue": "Weiter", "Save and leave": "Speichern und verlassen"}


def german_catalogue(root, *, compile_with_babel: bool = True):
    """`root/de/LC_MESSAGES/django.po`, compiled to .mo by Babel's command line, as `make` does."""
    messages = root / "de" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    catalog = Catalog(locale="de", fuzzy=False)
    for english, german in GERMAN.items():
        catalog.add(english, german)
    with (messages / "django.po").open("wb") as handle:
        write_po(handle, catalog)
    if compile_with_babel:
        subprocess.run(  # noqa: S603 (this interpreter, the Makefile's own command)
            [sys.executable, "-m", "babel.messages.frontend", "compile",
             "-i", messages / "django.po", "-o", messages / "django.mo"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    return root


def settings_in_a_new_process(**environment: str) -> dict:
    """What consent_site.settings makes of this environment, and what German then says."""
    probe = (
        "import json, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "from django.utils import translation\n"
        "with translation.override('de'):\n"
        "    continue_ = translation.gettext('Continue')\n"
        "print(json.dumps({'languages': settings.LANGUAGES, 'code': settings.LANGUAGE_CODE,\n"
        "                  'continue': continue_}))\n"
    )
    result = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "consent_site.settings", **environment},
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(result.stdout)


def test_english_and_french_are_offered_from_the_project_catalogues():
    assert settings.LANGUAGES[0] == ("en", "English")
    assert ("fr", "Français") in settings.LANGUAGES
    assert catalogue_languages([LOCALE]) == ["fr"]


def test_a_catalogue_in_an_extra_folder_adds_its_language_named_in_itself(tmp_path):
    extra = german_catalogue(tmp_path)
    assert interface_languages([extra, LOCALE]) == [
        ("en", "English"),
        ("de", "Deutsch"),
        ("fr", "Français"),
    ]


def test_a_third_language_needs_only_its_catalogue_and_an_environment_variable(tmp_path):
    extra = german_catalogue(tmp_path)
    found = settings_in_a_new_process(EXTRA_LOCALE_PATHS=str(extra))
    assert ["de", "Deutsch"] in found["languages"]
    assert found["continue"] == "Weiter"  # Babel's .mo, read by Django's gettext


def test_without_the_extra_folder_the_language_is_not_offered():
    found = settings_in_a_new_process(EXTRA_LOCALE_PATHS="")
    assert [code for code, _name in found["languages"]] == ["en", "fr"]
    assert found["continue"] == "Continue"


def test_a_catalogue_not_yet_compiled_counts_too(tmp_path):
    extra = german_catalogue(tmp_path, compile_with_babel=False)
    assert "de" in dict(interface_languages([extra]))


def test_the_institution_language_is_set_by_the_environment_and_always_offered():
    found = settings_in_a_new_process(INSTITUTION_LANGUAGE="fr")
    assert found["code"] == "fr"
    assert found["languages"][:2] == [["en", "English"], ["fr", "Français"]]
    assert settings_in_a_new_process()["code"] == "en"


def test_a_language_django_does_not_know_is_named_by_its_code(tmp_path):
    (tmp_path / "xx" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "xx" / "LC_MESSAGES" / "django.po").write_text('msgid ""\nmsgstr ""\n')
    assert ("xx", "xx") in interface_languages([tmp_path])
    assert language_name("pt-br") == "Português Brasileiro"


def test_a_run_without_make_compiles_a_missing_or_older_catalogue_only(tmp_path):
    from tests.i18n.compiled import catalogues_compile

    german_catalogue(tmp_path, compile_with_babel=False)
    assert catalogues_compile(tmp_path) == [tmp_path / "de" / "LC_MESSAGES" / "django.mo"]
    assert catalogues_compile(tmp_path) == []
    found = settings_in_a_new_process(EXTRA_LOCALE_PATHS=str(tmp_path))
    assert found["continue"] == "Weiter"
