"""Reading the committed translation catalogues, for the i18n tests."""

import re
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.pofile import read_po
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
# What the translations must keep exactly: Python's %-placeholders (and %% in template strings),
# str.format's {name}, and HTML tags.
KEPT = re.compile(r"%%|%\(\w+\)[sdfi]|%[sdfi]|\{\w*\}|</?[a-zA-Z][^>]*>")


def catalogue(language: str, domain: str = "django") -> list[Message]:
    """The messages (not the header) of a committed catalogue; [] when there is none."""
    path = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    if not path.is_file():
        return []
    with path.open("rb") as handle:
        return [message for message in read_po(handle) if message.id]


def forms(message: Message) -> Iterator[tuple[str, str]]:
    """Each (English, translation) pair: one for a plain message, one per form for a plural."""
    if message.pluralizable:
        english = list(message.id)
        translated = list(message.string) if isinstance(message.string, tuple) else []
        for index, text in enumerate(translated):
            yield english[min(index, len(english) - 1)], text
        if not translated:
            yield english[0], ""
    else:
        yield str(message.id), str(message.string or "")


def is_translated(message: Message | None) -> bool:
    """Present, not fuzzy, and every form says something."""
    if message is None or message.fuzzy:
        return False
    return all(text.strip() for _english, text in forms(message))


def key(message: Message) -> tuple[str | None, str]:
    """A message's identity across catalogues: its context and its (singular) English text."""
    english = message.id[0] if message.pluralizable else message.id
    return message.context, str(english)
