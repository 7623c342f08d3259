"""Languages: what each is called, and which one a page speaks.

A patient reads in the language of their consent session (`ConsentSession.language`, the
language of the procedure version it pins); staff and auditors work in the institution's
(`settings.LANGUAGE_CODE`). The record and the FHIR export say which language the patient was
shown, named for both readers: "French (Français)".
"""

from django.utils.text import capfirst
from django.utils.translation import get_language_info, gettext

from consent_site.languages import language_name as own_name


def _info(code: str) -> dict[str, str] | None:
    try:
        return get_language_info(code)
    except KeyError:  # a BCP 47 tag Django does not know (e.g. "gsw"): its code is its name
        return None


def language_own_name(code: str) -> str:
    """The language in its own words, as a patient looks for it: "Français", "English" (the
    same name `LANGUAGES` gives it, consent_site/languages.py)."""
    return own_name(code)


def language_name(code: str) -> str:
    """The language named in the active language: "French" for a reader of English."""
    info = _info(code)
    return capfirst(gettext(info["name"])) if info else code


def language_label(code: str) -> str:
    """Both names where they differ, for a reader who may know only one: "French
    (Français)"; "English" alone where the reader's name is the language's own."""
    name, own = language_name(code), language_own_name(code)
    return name if name == own else f"{name} ({own})"
