"""Every word a template shows goes through the translation tags: nothing is left outside them."""

import re
from pathlib import Path

from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Words that are the same in every language: units, standards and names (SMOG: a formula).
UNTRANSLATED = {"UTC", "SHA-256", "FHIR", "PDF", "QR", "MRN", "SMOG"}
ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")


def words_outside_translation(source: str) -> list[str]:
    """The text of a template that no {% translate %} or {% blocktranslate %} holds."""
    source = re.sub(
        r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", "", source, flags=re.S
    )
    source = re.sub(
        r"\{%\s*blocktrans(?:late)?\b.*?\{%\s*endblocktrans(?:late)?\s*%\}", "", source, flags=re.S
    )
    # A block that names a CSS class ({% block body_class %}patient{% endblock %}) is no text.
    source = re.sub(r"\{%\s*block\s+\w*class\s*%\}.*?\{%\s*endblock\s*%\}", "", source, flags=re.S)
    source = re.sub(r"<(script|style)\b.*?</\1>", "", source, flags=re.S)
    found = [
        value
        for name, value in re.findall(r'\b([\w-]+)="([^"]*)"', source)
        if name in ATTRIBUTES and re.search(r"[A-Za-z]{2,}", re.sub(r"\{[{%].*?[%}]\}", "", value))
    ]
    text = re.sub(r"\{%.*?%\}|\{\{.*?\}\}|<[^>]*>", " ", source, flags=re.S)
    found += [
        word for word in re.findall(r"[A-Za-z][\w'-]*[A-Za-z0-9]", text) if word not in UNTRANSLATED
    ]
    return found  # fmt: skip


def test_no_template_shows_words_outside_the_translation_tags():
    untranslated = {
        str(path.relative_to(TEMPLATES)): words
        for path in sorted(TEMPLATES.rglob("*.html"))
        if (words := words_outside_translation(path.read_text(encoding="utf-8")))
    }
    assert untranslated == {}


def test_the_template_check_sees_a_word_left_outside():
    assert words_outside_translation('<p>{% translate "Back" %}</p><p>Next</p>') == ["Next"]
    assert words_outside_translation('<img alt="A picture" src="{{ url }}">') == ["A picture"]
    assert (
        words_outside_translation("{% block body_class %}staff{% endblock %}<b>{{ name }}</b>")
        == []
    )
