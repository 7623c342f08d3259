"""The running header and footer of the printed record, in the language it is printed in.

CSS cannot translate: the words of the page margins (`@page` margin boxes) are written by the
record's template into a `<style>` element (templates/consent/pdf/_margins.html), and this tag
turns a translated phrase into the margin box's `content` value.
"""

import re

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def css_string(text: str) -> str:
    """A CSS string literal of this text that is also inert inside an HTML `<style>` element.

    Everything but letters, digits and spaces is a CSS escape (`\\3c ` for "<"), so neither a
    quote nor `</style>` can come out of a translation.
    """
    escaped = "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in text)
    return f'"{escaped}"'


@register.simple_tag
def margin_content(phrase: str, **values: str) -> SafeString:
    """CSS `content` from a translated phrase whose `%(name)s` are CSS values.

    `{% margin_content page_of page="counter(page)" pages="counter(pages)" %}` with the phrase
    "Page %(page)s sur %(pages)s" gives `"Page " counter(page) " sur " counter(pages)`. The
    values come from the template, never from a translation or a person.
    """
    parts: list[str] = []
    for index, piece in enumerate(PLACEHOLDER.split(str(phrase))):
        if index % 2:
            parts.append(values[piece])
        elif piece:
            parts.append(css_string(piece))
    # Only CSS string literals (escaped above) and the template's own CSS values.
    return mark_safe(" ".join(parts))  # noqa: S308
