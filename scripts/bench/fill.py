"""Bulk-fill a benchmark database with consent sessions (fit for a benchmark only).

The rows carry no audit events and the records share one sample PDF path. Sessions are inserted
while their answers are still open (status `created`), their attempts, signatures and records
next, and only then are they moved to their final status with one UPDATE per status: the
database's history triggers (consent/audit/triggers.py) refuse evidence added to a finalized
session, as they should.
"""

import random
from datetime import UTC, date, datetime, timedelta

BATCH = 5000
FIRST_NAMES = ["Anna", "Louis", "Marie", "Karim", "Sofia", "Jan", "Ines", "Paul", "Lena", "Omar"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Smith", "Novak", "Rossi", "Garcia", "Kowalski"]


def fill(size: int, doctors: list, versions: list, rng: random.Random) -> None:
    """Insert `size` more sessions (a realistic mix of statuses, decisions, physicians,
    versions, flags and finalized records) in batches."""
    from consent.models import Attempt, ConsentRecord, ConsentSession, Question, Signature

    status = ConsentSession.Status
    weights = [
        (status.FINALIZED, 55),
        (status.CREATED, 8),
        (status.REVIEWING, 10),
        (status.READY_FOR_DISCUSSION, 8),
        (status.ATTESTED, 5),
        (status.SIGNED, 4),
        (status.DECLINED, 3),
        (status.CANCELLED, 7),
    ]
    population = [value for value, weight in weights for _ in range(weight)]
    questions = {
        v.pk: list(Question.objects.filter(version=v).order_by("position")) for v in versions
    }
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = ConsentSession.objects.count()
    for offset in range(0, size, BATCH):
        count = min(BATCH, size - offset)
        sessions, final = [], []
        for number in range(made + offset, made + offset + count):
            sessions.append(
                ConsentSession(
                    patient_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {number}",
                    patient_birth_date=date(1935 + number % 30, 1 + number % 12, 1 + number % 28),
                    patient_record_number=f"MRN-{number:07d}",
                    procedure_version=rng.choice(versions),
                    physician=rng.choice(doctors),
                    created_by=doctors[0],
                    status=status.CREATED,
                    max_reteach=2,
                )
            )
            final.append(rng.choice(population))
        ConsentSession.objects.bulk_create(sessions, batch_size=1000)
        signatures, records, attempts = [], [], []
        by_status: dict[str, list[int]] = {}
        for session, outcome in zip(sessions, final, strict=True):
            pk = session.pk
            by_status.setdefault(outcome, []).append(pk)
            signed = start + timedelta(minutes=5 * pk)
            if outcome in (status.FINALIZED, status.SIGNED, status.DECLINED):
                refused = outcome == status.DECLINED or (
                    outcome == status.FINALIZED and rng.random() < 0.08
                )
                kind = Signature.Kind.PATIENT_REFUSAL if refused else Signature.Kind.PATIENT_CONSENT
                signatures.append(
                    Signature(
                        session_id=pk,
                        kind=kind,
                        printed_name="Patient",
                        meaning="bench",
                        statement="bench",
                        method=Signature.Method.TYPED,
                        signed_at=signed,
                    )
                )
            if outcome == status.FINALIZED:
                records.append(
                    ConsentRecord(
                        session_id=pk,
                        record_id=f"CR-2026-{pk:06d}",
                        pdf="records/bench/sample.pdf",
                        pdf_sha256="0" * 64,
                        pdf_size=90_000,
                        finalized_at=signed,
                        finalized_by_id=session.physician_id,
                    )
                )
            if rng.random() < 0.12:
                question = rng.choice(questions[session.procedure_version_id])
                attempts.extend(
                    Attempt(session_id=pk, question=question, round=n, answer=[0], is_correct=False)
                    for n in (1, 2, 3)
                )
        Attempt.objects.bulk_create(attempts, batch_size=1000)
        Signature.objects.bulk_create(signatures, batch_size=1000)
        ConsentRecord.objects.bulk_create(records, batch_size=1000)
        for outcome, pks in by_status.items():
            if outcome != status.CREATED:
                ConsentSession.objects.filter(pk__in=pks).update(status=outcome)
