"""The French catalogue is complete for every string the sources mark, and faithful to them.

Completeness is measured against the sources themselves, not against the catalogue's own
list: Django's makemessages (gettext's xgettext) extracts every marked string from a copy of
the sources, and each must have a French translation, not fuzzy, in the committed catalogue.
"""

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po
from django.conf import settings

from tests.i18n.catalogues import KEPT, catalogue, forms, is_translated, key

# What the running application is made of: makemessages reads these (and only these).
SOURCES = ("manage.py", "consent", "consent_site", "demo", "templates")
DOMAINS = ("django", "djangojs")
JAVASCRIPT = Path(settings.BASE_DIR) / "consent" / "static" / "consent"

needs_xgettext = pytest.mark.skipif(
    shutil.which("xgettext") is None,
    reason="gettext's xgettext is not installed (Makefile SYSTEM_PACKAGES: gettext)",
)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, list[Message]]:
    """Every marked string of the sources, per domain, as makemessages finds it today."""
    copy = tmp_path_factory.mktemp("sources")
    for name in SOURCES:
        source = Path(settings.BASE_DIR) / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    (copy / "locale").mkdir()
    found: dict[str, list[Message]] = {}
    environment = {**os.environ, "EXTRA_LOCALE_PATHS": ""}
    for domain in DOMAINS:
        command = ["manage.py", "makemessages", "--locale", "fr", "--domain", domain]
        subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, *command, "--ignore", "vendor", "--no-location"],
            cwd=copy,
            check=True,
            capture_output=True,
            timeout=300,
            env=environment,  # only the copy's own locale/ is written
        )
        path = copy / "locale" / "fr" / "LC_MESSAGES" / f"{domain}.po"
        # makemessages writes no file for a domain without a single marked string.
        found[domain] = []
        if path.exists():
            with path.open("rb") as handle:
                found[domain] = [message for message in read_po(handle) if message.id]
    return found


@needs_xgettext
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_marked_string_of_the_sources_has_a_french_translation(extracted, domain):
    committed = {key(message): message for message in catalogue("fr", domain)}
    missing = [
        key(message)
        for message in extracted[domain]
        if not is_translated(committed.get(key(message)))
    ]
    assert not missing, (
        f"{len(missing)} strings without French in locale/fr ({domain}.po): {missing[:20]}"
    )


@needs_xgettext
def test_the_sources_mark_the_interface_strings_that_the_catalogue_translates(extracted):
    # The extraction really reads the templates and the Python code, whatever the count today.
    english = {key(message)[1] for message in extracted["django"]}
    assert {"Save and leave", "Check my answer", "Ask your doctor a question"} <= english
    assert "Only the responsible physician can sign this consent session." in english
    assert "Page %%(page)s of %%(pages)s" in english  # the PDF's margins (templates/consent/pdf)


def test_the_committed_catalogue_has_no_untranslated_or_fuzzy_entry():
    messages = catalogue("fr")
    assert len(messages) > 900
    assert [key(m) for m in messages if not is_translated(m)] == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_translation_keeps_the_placeholders_and_markup_of_its_english(domain):
    changed = []
    for message in catalogue("fr", domain):
        for english, french in forms(message):
            if Counter(KEPT.findall(english)) != Counter(KEPT.findall(french)):
                changed.append((english, french))
    assert changed == []


def test_the_placeholder_check_sees_a_lost_or_renamed_placeholder():
    assert Counter(KEPT.findall("Page %(page)s of %(pages)s")) != Counter(
        KEPT.findall("Page %(page)s sur %(total)s")
    )
    assert Counter(KEPT.findall("the same check as <code>verify</code>")) != Counter(
        KEPT.findall("la même vérification que verify")
    )
    assert Counter(KEPT.findall("'{typed}' does not match")) != Counter(
        KEPT.findall("ne correspond pas")
    )


def test_the_interface_scripts_hold_no_words_of_their_own():
    """The scripts' words come from the page (data attributes the templates translate), so the
    JavaScript catalogue stays empty: a sentence in a script would never be translated."""
    sentences = []
    for script in sorted(JAVASCRIPT.glob("*.js")):
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", script.read_text(), flags=re.S)
        for literal in re.findall(r"\"([^\"\n]*)\"|'([^'\n]*)'", code):
            text = "".join(literal)
            if text != "use strict" and re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", text):
                sentences.append((script.name, text))
    assert sentences == []


def entries(text: str) -> list[tuple[str, str]]:
    """(context, English) of every entry of a .po file's text, obsolete ones left out."""
    found = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if not line.startswith("#")]
        fields: dict[str, str] = {}
        keyword = ""
        for line in lines:
            match = re.match(r'(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                keyword = match.group(1)
                fields[keyword] = match.group(2)
            elif line.startswith('"') and keyword:
                fields[keyword] += line[1:-1]
        if fields.get("msgid"):
            found.append((fields.get("msgctxt", ""), fields["msgid"]))
    return found


@pytest.mark.parametrize("domain", DOMAINS)
def test_no_message_is_in_the_catalogue_twice(domain):
    """Two branches that translate the same new string each add it: gettext then refuses the
    file (msgmerge: "duplicate message definition") while Babel quietly keeps one of them."""
    path = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return
    counts = Counter(entries(path.read_text(encoding="utf-8")))
    assert [entry for entry, count in counts.items() if count > 1] == []


def test_the_duplicate_check_sees_a_message_added_twice():
    text = 'msgid "Back"\nmsgstr "Retour"\n\nmsgid ""\n"Back"\nmsgstr "Arrière"\n'
    assert Counter(entries(text)) == Counter({("", "Back"): 2})
