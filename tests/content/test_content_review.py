"""The clinical review is data (docs/content-packs.md): `reviewed_by` and `reviewed_on` together or
neither; the shipped pack is unreviewed; import_pack says which."""

import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from consent.content.packs import PackError, load_pack, parse_pack
from consent.models import ProcedureVersion
from tests.content.test_packs import NAME, to_toml, valid_pack
from tests.factories import MITRACLIP_PATH

REVIEWER = "Dr Test Reviewer, cardiology"


def reviewed_pack_bytes(*, version: str = "2026.2-reviewed") -> bytes:
    """The shipped MitraClip pack as if a clinician had approved it (a test's reviewer)."""
    text = MITRACLIP_PATH.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^version = ".*"$', f'version = "{version}"', text, count=1)
    text = text.replace(
        "schema = 1\n", f'schema = 1\nreviewed_by = "{REVIEWER}"\nreviewed_on = 2026-03-01\n', 1
    )
    return text.encode()


def errors(pack: dict) -> list[str]:
    with pytest.raises(PackError) as caught:
        parse_pack(to_toml(pack).encode(), source_name=NAME)
    return caught.value.messages


def test_the_shipped_pack_is_not_clinically_reviewed():
    content = load_pack(MITRACLIP_PATH).content
    assert "reviewed_by" not in content
    assert "reviewed_on" not in content


def test_a_review_date_is_kept_as_iso_text_whether_written_as_a_toml_date_or_text():
    from_date = parse_pack(reviewed_pack_bytes(), source_name="mitraclip.en.toml").content
    assert from_date["reviewed_by"] == REVIEWER
    assert from_date["reviewed_on"] == "2026-03-01"
    pack = valid_pack()
    pack["reviewed_by"] = REVIEWER
    pack["reviewed_on"] = "2026-03-01"
    assert parse_pack(to_toml(pack).encode(), source_name=NAME).content["reviewed_on"] == (
        "2026-03-01"
    )


@pytest.mark.parametrize(
    "given,missing", [("reviewed_by", "reviewed_on"), ("reviewed_on", "reviewed_by")]
)
def test_a_review_names_who_and_when_or_is_refused(given, missing):
    pack = valid_pack()
    pack[given] = REVIEWER if given == "reviewed_by" else "2026-03-01"
    assert errors(pack) == [
        f'{NAME}: field "{given}" needs "{missing}" too: a clinical review names who approved '
        "the text and on which date (leave both out while the text is not reviewed)"
    ]


@pytest.mark.parametrize("value", ["March 2026", "2026-02-30", "01/03/2026", 2026])
def test_a_review_date_that_is_not_a_date_is_refused(value):
    pack = valid_pack()
    pack["reviewed_by"] = REVIEWER
    pack["reviewed_on"] = value
    shown = f'"{value}"' if isinstance(value, str) else "a number"
    assert errors(pack) == [
        f'{NAME}: field "reviewed_on" must be a date such as 2026-03-01, not {shown}'
    ]


def test_a_review_date_with_a_time_is_refused():
    raw = reviewed_pack_bytes().replace(
        b"reviewed_on = 2026-03-01", b"reviewed_on = 2026-03-01T10:00:00"
    )
    with pytest.raises(PackError) as caught:
        parse_pack(raw, source_name="mitraclip.en.toml")
    assert caught.value.messages == [
        'mitraclip.en.toml: field "reviewed_on" must be a date such as 2026-03-01, not a date '
        "or time"
    ]


def import_pack(path) -> str:
    out = StringIO()
    call_command("import_pack", str(path), stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_import_pack_says_the_shipped_pack_is_not_clinically_reviewed():
    lines = import_pack(MITRACLIP_PATH).splitlines()
    assert (
        "  NOT clinically reviewed: for demonstration only (no reviewed_by and reviewed_on in "
        "the pack); with DEBUG off, sessions need CONSENT_ALLOW_UNREVIEWED_CONTENT"
    ) in lines
    version = ProcedureVersion.objects.get()
    assert (version.reviewed_by, version.reviewed_on) == ("", None)
    assert not version.clinically_reviewed


@pytest.mark.django_db
def test_import_pack_says_who_reviewed_a_reviewed_pack_and_when(tmp_path):
    path = tmp_path / "mitraclip.en.toml"
    path.write_bytes(reviewed_pack_bytes())
    lines = import_pack(path).splitlines()
    assert f"  clinically reviewed by {REVIEWER} on 2026-03-01" in lines
    version = ProcedureVersion.objects.get()
    assert (version.reviewed_by, version.reviewed_on) == (REVIEWER, date(2026, 3, 1))
    assert version.clinically_reviewed
