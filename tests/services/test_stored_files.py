"""A file is stored before the row that points at it is committed; when that transaction
fails, the file goes too (consent/objectstore.py, `removed_on_failure`): no orphan PDF is
left in the store for a record or an addendum that does not exist."""

import pytest

from consent.models import Addendum, ConsentRecord
from consent.services import signatures as signature_services
from tests.factories import (
    ORIGIN,
    PASSWORD,
    addendum_added,
    decided_session,
    fake_pdf_render,
    finalized_record,
)

pytestmark = pytest.mark.django_db


class Broken(Exception):
    pass


def stored_files(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_a_finalization_that_fails_after_storing_its_pdf_leaves_no_file(
    settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path
    session = decided_session(read_through=True, drawn=False)

    def broken(*args, **kwargs):
        raise Broken

    monkeypatch.setattr(signature_services, "_record_pinned", broken)
    with pytest.raises(Broken):
        signature_services.session_finalize(
            session=session,
            physician=session.physician,
            password=PASSWORD,
            origin=ORIGIN,
            render_pdf=fake_pdf_render,
        )
    assert not ConsentRecord.objects.exists()
    assert stored_files(tmp_path) == []
    # And when nothing fails, the file stays.
    monkeypatch.undo()
    signature_services.session_finalize(
        session=session,
        physician=session.physician,
        password=PASSWORD,
        origin=ORIGIN,
        render_pdf=fake_pdf_render,
    )
    record = ConsentRecord.objects.get()
    assert stored_files(tmp_path) == [record.pdf.name]


def test_an_addendum_that_fails_after_storing_its_pdf_leaves_no_file(
    settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path
    record = finalized_record(read_through=True)
    before = stored_files(tmp_path)

    def broken(*args, **kwargs):
        raise Broken

    monkeypatch.setattr("consent.services.addenda.audit_record", broken)
    with pytest.raises(Broken):
        addendum_added(record=record, kind="correction", text="A note.", author=record.finalized_by)
    assert not Addendum.objects.exists()
    assert stored_files(tmp_path) == before
