"""The interface languages, found from the translation catalogues rather than written in code.

A language is offered when some directory of `LOCALE_PATHS` holds a catalogue for it
(`<code>/LC_MESSAGES/django.po` or `.mo`): adding a language is adding its catalogue, with no
change to Python (issue 14). English, the language the interface is written in, is always
offered, and so is the institution's language. Settings import this module, so it uses nothing
that needs configured settings.
"""

from collections.abc import Iterable
from pathlib import Path

from django.conf.locale import LANG_INFO
from django.utils.translation import to_language

SOURCE_LANGUAGE = "en"


def language_name(code: str) -> str:
    """Name a language in itself, from Django's own table ("Français"); else by its code."""
    info = LANG_INFO.get(code) or LANG_INFO.get(code.split("-")[0]) or {}
    if "fallback" in info:
        info = LANG_INFO.get(info["fallback"][0], {})
    if "name_local" not in info:
        return code
    name = str(info["name_local"])
    return name[:1].upper() + name[1:]


def catalogue_languages(locale_paths: Iterable[Path | str]) -> list[str]:
    """The language codes ("fr", "pt-br") with a `django` catalogue under these directories."""
    codes: set[str] = set()
    for root in locale_paths:
        for messages in Path(root).glob("*/LC_MESSAGES"):
            if any((messages / f"django.{suffix}").is_file() for suffix in ("po", "mo")):
                codes.add(to_language(messages.parent.name))
    return sorted(codes)


def interface_languages(
    locale_paths: Iterable[Path | str], institution_language: str = SOURCE_LANGUAGE
) -> list[tuple[str, str]]:
    """`LANGUAGES`: English, the institution's language, then each catalogue's, named in itself."""
    codes = [SOURCE_LANGUAGE, institution_language, *catalogue_languages(locale_paths)]
    unique = list(dict.fromkeys(codes))
    return [(code, language_name(code)) for code in unique]
