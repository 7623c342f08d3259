"""seed_demo: a realistic, reproducible history made through the services, on an empty database."""

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from consent import clock
from consent.audit.chain import chain_verify
from consent.models import (
    Addendum,
    Attempt,
    AuditEvent,
    ConsentRecord,
    ConsentSession,
    PatientLink,
    ProcedureVersion,
    QuestionReview,
    SectionView,
    Signature,
)
from consent.record.seal import seal_signer
from demo.clock import SimulatedClock
from demo.seeding import SeedError, demo_history_seed

pytestmark = pytest.mark.django_db

Status = ConsentSession.Status
SEED = 7


def seed(sessions: int = 12, seed: int = SEED) -> str:
    out = io.StringIO()
    call_command("seed_demo", sessions=sessions, seed=seed, force=True, stdout=out)
    return out.getvalue()


def story(sessions) -> list[tuple]:
    """What happened in each session, in the order they were created; times left out."""
    return [
        (
            session.status,
            session.patient_name,
            session.patient_birth_date,
            session.physician.username,
            [
                (a.question.key, a.round, a.answer, a.is_correct)
                for a in Attempt.objects.filter(session=session).select_related("question")
            ],
            [
                v.seconds
                for v in SectionView.objects.filter(session=session).order_by("section__position")
            ],
            sorted(Signature.objects.filter(session=session).values_list("kind", flat=True)),
            list(
                Addendum.objects.filter(record__session=session)
                .order_by("pk")
                .values_list("kind", flat=True)
            ),
            list(session.patient_questions.values_list("text", flat=True)),
        )
        for session in sessions.order_by("pk").select_related("physician")
    ]


def seal_status(pdf: bytes):
    (embedded,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    context = ValidationContext(trust_roots=[seal_signer().signing_cert])
    return validate_pdf_signature(embedded, context)


def test_seed_demo_builds_a_realistic_verifiable_history_on_an_empty_database(settings):
    """One run of twelve sessions with real PDFs (about a second each), checked from every side:
    seeding is slow enough that the checks share it."""
    assert not ProcedureVersion.objects.exists()
    assert not get_user_model().objects.exists()
    assert not AuditEvent.objects.exists()
    key = Path(settings.SEAL_P12_PATH)
    key_before = key.read_bytes()

    output = seed()

    # The sessions, the demo accounts and the content pack, all made by the command.
    assert ConsentSession.objects.count() == 12
    assert ProcedureVersion.objects.filter(slug="mitraclip").exists()
    physicians = get_user_model().objects.filter(groups__name="physician")
    assert physicians.count() == 5
    assert get_user_model().objects.filter(username="auditor").exists()

    # The lifecycle is covered, with both decisions and a withdrawal.
    statuses = set(ConsentSession.objects.values_list("status", flat=True))
    assert {Status.FINALIZED, Status.CANCELLED, Status.READY_FOR_DISCUSSION} <= statuses
    assert len(statuses) >= 5
    kinds = set(Signature.objects.values_list("kind", flat=True))
    assert {Signature.Kind.PATIENT_CONSENT, Signature.Kind.PATIENT_REFUSAL} <= kinds
    assert Addendum.objects.filter(kind=Addendum.Kind.WITHDRAWAL).exists()

    # Wrong at first, right after a re-teach; the risk-number questions are missed most.
    assert Attempt.objects.filter(round=2, is_correct=True).exists()
    missed = Attempt.objects.filter(round=1, is_correct=False)
    risk_numbers = ["risk-stroke-per-100", "risks-under-1-in-100"]
    assert (
        missed.filter(question__key__in=risk_numbers).count()
        > missed.filter(question__key="purpose").count()
    )
    assert len(set(SectionView.objects.values_list("seconds", flat=True))) > 20

    # Every finalized record has its real PDF, as stored, sealed with the configured key.
    records = ConsentRecord.objects.all()
    assert records.count() == ConsentSession.objects.filter(status=Status.FINALIZED).count() > 0
    for record in records:
        with record.pdf.open("rb") as stored:
            pdf = stored.read()
        assert pdf.startswith(b"%PDF-")
        assert hashlib.sha256(pdf).hexdigest() == record.pdf_sha256
    status = seal_status(pdf)
    assert status.intact
    assert status.valid
    assert key.read_bytes() == key_before

    # The audit chain verifies; its times never go backwards and span the past months.
    report = chain_verify()
    assert report.intact
    assert report.count == AuditEvent.objects.count()
    times = list(AuditEvent.objects.order_by("seq").values_list("occurred_at", flat=True))
    assert times == sorted(times)
    assert (times[-1] - times[0]).days > 60

    # The summary gives counts, never a patient's data.
    assert "Added 12 consent sessions" in output
    assert "chain intact" in output
    for name, record_number, birth_date in ConsentSession.objects.values_list(
        "patient_name", "patient_record_number", "patient_birth_date"
    ):
        assert name not in output
        assert record_number not in output
        assert birth_date.isoformat() not in output


def test_the_same_seed_tells_the_same_story_again(fake_pdf_renderer):
    """Run twice: the second history comes after the first and repeats it, answer for answer.

    The PDF is stubbed here: the test above looks at the real ones."""
    seed(sessions=8, seed=11)
    first_ids = list(ConsentSession.objects.values_list("pk", flat=True))
    seed(sessions=8, seed=11)
    second = ConsentSession.objects.exclude(pk__in=first_ids)
    assert len(first_ids) == second.count() == 8
    assert len(set(second.values_list("status", flat=True))) >= 3
    assert story(ConsentSession.objects.filter(pk__in=first_ids)) == story(second)
    assert chain_verify().intact
    times = list(AuditEvent.objects.order_by("seq").values_list("occurred_at", flat=True))
    assert times == sorted(times)


def test_a_missing_signing_key_is_created_where_the_settings_say(
    settings, tmp_path, fake_pdf_renderer
):
    settings.SEAL_P12_PATH = tmp_path / "keys" / "seal.p12"
    output = seed(sessions=2)
    assert settings.SEAL_P12_PATH.is_file()
    assert "creating a development key" in output


def test_the_history_is_told_on_the_simulated_clock_it_is_given(fake_pdf_renderer):
    """Every time written comes from the clock passed in: the services' own stamps, the audit
    log's, and the fields Django stamps as it saves a row."""
    end = timezone.now() - timedelta(days=40)
    start = end - timedelta(days=365)

    report = demo_history_seed(
        sessions=10, seed=5, clock=SimulatedClock(start=start), days=365, end=end
    )

    assert (report.window_start, report.window_end) == (start, end)
    assert clock.installed() is None
    times = list(AuditEvent.objects.order_by("seq").values_list("occurred_at", flat=True))
    assert len(times) > 100
    assert times == sorted(times)
    # Spread over the simulated year, and none in the real now (which is 40 days later).
    assert start <= times[0] and times[-1] <= end
    assert (times[-1] - times[0]).days > 180
    for session in ConsentSession.objects.all():
        created = session.audit_events.get(action="session.created").occurred_at
        assert session.created_at == created
        assert session.links.order_by("pk").first().created_at == created
    stamped = [
        *Attempt.objects.values_list("created_at", flat=True),
        *SectionView.objects.values_list("first_viewed_at", flat=True),
        *SectionView.objects.values_list("last_viewed_at", flat=True),
        *QuestionReview.objects.values_list("reviewed_at", flat=True),
        *PatientLink.objects.values_list("created_at", flat=True),
        *ProcedureVersion.objects.values_list("imported_at", flat=True),
    ]
    assert Attempt.objects.exists() and QuestionReview.objects.exists()
    assert all(start <= moment <= end for moment in stamped)

    # The audit log's times never go backwards: a clock set before its last event is refused.
    with pytest.raises(SeedError, match="never go backwards"):
        demo_history_seed(sessions=1, seed=5, clock=SimulatedClock(start=start), end=end)
    assert AuditEvent.objects.count() == len(times)


def test_seed_demo_refuses_a_database_without_debug_unless_forced():
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", sessions=1, stdout=io.StringIO())
    assert not AuditEvent.objects.exists()
    assert not get_user_model().objects.exists()
