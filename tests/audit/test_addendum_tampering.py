"""An addendum rewritten behind the application's back (raw SQL as the owner, triggers
dropped, or the file on disk) is named by `verify_audit`; the record page still shows it."""

import hashlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from consent.audit.chain import audit_verify
from consent.models import Addendum
from tests.audit.tampering import sql, without_triggers
from tests.factories import addendum_added, finalized_record, signature_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def withdrawal() -> Addendum:
    record = finalized_record()
    return addendum_added(
        record=record,
        kind=Addendum.Kind.WITHDRAWAL,
        text="The patient withdrew their consent in clinic.",
        patient_name="Maria Keller",
        patient_image=signature_png(),
    )


def problems() -> list[str]:
    return [f"{f.subject}: {f.message}" for f in audit_verify().problems]


def test_an_untouched_addendum_verifies(withdrawal, capsys):
    assert audit_verify().intact, problems()
    call_command("verify_audit")
    assert "audit chain intact" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("column", "value", "named"),
    [
        ("text", "The patient did not withdraw.", "its text differs"),
        ("addendum_json", '{"forged": true}', "its JSON differs"),
        ("addendum_sha256", "0" * 64, "its JSON differs"),
        ("pdf_sha256", "0" * 64, "its PDF file differs"),
        ("patient_signature_image", signature_png(200, 80), "drawn signature differs"),
    ],
)
def test_a_rewritten_addendum_row_is_named(withdrawal, column, value, named):
    without_triggers()
    sql(f"UPDATE consent_addendum SET {column} = %s WHERE id = %s", [value, withdrawal.pk])  # noqa: S608
    found = problems()
    assert any(withdrawal.addendum_id in p and named in p for p in found), found
    with pytest.raises(CommandError):
        call_command("verify_audit")


def test_a_removed_patient_drawing_is_named(withdrawal):
    without_triggers()
    sql("UPDATE consent_addendum SET patient_signature_image = NULL WHERE id = %s", [withdrawal.pk])
    assert any("drawn signature differs" in p for p in problems())


def test_a_rewritten_addendum_pdf_file_and_row_are_named(withdrawal):
    forged = b"%PDF-1.7\n% forged addendum\n"
    with open(withdrawal.pdf.path, "wb") as file:
        file.write(forged)
    assert any("its PDF file differs" in p for p in problems())
    without_triggers()
    sql(
        "UPDATE consent_addendum SET pdf_sha256 = %s, pdf_size = %s WHERE id = %s",
        [hashlib.sha256(forged).hexdigest(), len(forged), withdrawal.pk],
    )
    assert any(withdrawal.addendum_id in p and "its PDF file differs" in p for p in problems()), (
        problems()
    )


def test_a_deleted_addendum_pdf_file_is_named(withdrawal):
    withdrawal.pdf.storage.delete(withdrawal.pdf.name)
    assert any("its PDF file is missing" in p for p in problems())
