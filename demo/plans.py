"""The plan of a demo history: each session's start, physician, procedure and final stage.

Fixed before any session starts, from the seed alone, so that the same seed tells the same story.
"""

import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User

from consent.models import ProcedureVersion

# dr.martin sees more patients than each of the others.
PHYSICIAN_WEIGHTS = (0.3, 0.175, 0.175, 0.175, 0.175)

# Where each session's script ends: the status it is left in.
FINALIZED_CONSENT = "finalized-consent"
FINALIZED_DECLINE = "finalized-decline"
CANCELLED = "cancelled"
CREATED = "created"
REVIEWING = "reviewing"
READY = "ready"
ATTESTED = "attested"
SIGNED = "signed"  # consented, not yet countersigned
DECLINED = "declined"  # declined, not yet countersigned
STAGE_SHARES = (
    (FINALIZED_CONSENT, 0.63),
    (FINALIZED_DECLINE, 0.07),
    (CANCELLED, 0.07),
    (CREATED, 0.04),
    (REVIEWING, 0.04),
    (READY, 0.05),
    (ATTESTED, 0.04),
    (SIGNED, 0.04),
    (DECLINED, 0.02),
)
IN_PROGRESS = (CREATED, REVIEWING, READY, ATTESTED, SIGNED, DECLINED)
DIVERSITY_ORDER = (
    FINALIZED_CONSENT,
    FINALIZED_DECLINE,
    CANCELLED,
    READY,
    REVIEWING,
    ATTESTED,
    SIGNED,
    CREATED,
    DECLINED,
)
# Sessions still in progress are mostly recent: their chance falls by e every this many days.
IN_PROGRESS_AGE_DAYS = 30
WITHDRAWAL_SHARE = 0.06  # of finalized consents
CORRECTION_SHARE = 0.03  # of finalized records


@dataclass
class SessionPlan:
    """The part of a session's story fixed before it starts: whose, when, and how it ends."""

    index: int
    start: datetime
    physician: User
    version: ProcedureVersion
    stage: str
    withdrawn: bool
    corrected: bool
    # What happens (answers, reading times...): the same for the same seed, always.
    what: random.Random
    # When it happens: the gaps between steps. Kept apart, so that a branch taken because of
    # the calendar (an expired link, say) never changes what happens afterwards.
    when: random.Random


def _quotas(total: int) -> list[str]:
    """The stages of `total` sessions: one of each stage first (up to half of them, so that
    even a small run shows the whole lifecycle), the rest in the shares of STAGE_SHARES."""
    counts = Counter(DIVERSITY_ORDER[: max(1, total // 2)])
    rest = total - sum(counts.values())
    exact = [(stage, share * rest) for stage, share in STAGE_SHARES]
    for stage, value in exact:
        counts[stage] += math.floor(value)
    left = total - sum(counts.values())
    by_remainder = sorted(exact, key=lambda item: item[1] - math.floor(item[1]), reverse=True)
    for stage, _value in by_remainder[:left]:
        counts[stage] += 1
    return [stage for stage, _share in STAGE_SHARES for _ in range(counts[stage])]


def _weighted_sample(rng: random.Random, log_weights: list[float], k: int) -> list[int]:
    """k distinct indexes, each drawn in proportion to exp(its log weight) (Gumbel top-k)."""
    keys = [w - math.log(-math.log(max(rng.random(), 1e-300))) for w in log_weights]
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=True)[:k]


def plans_make(
    *,
    sessions: int,
    seed: int,
    days: int,
    start: datetime,
    physicians: list[User],
    versions: list[ProcedureVersion],
) -> list[SessionPlan]:
    """Decide every session's start, physician, procedure and final stage, in time order."""
    rng = random.Random(f"seed-demo:{seed}")  # noqa: S311 (demo data, not secrets)
    span = days * 86400
    offsets = sorted(rng.uniform(0.02, 0.995) * span for _ in range(sessions))
    stages = _quotas(sessions)
    in_progress = [s for s in stages if s in IN_PROGRESS]
    rng.shuffle(in_progress)
    complete = [s for s in stages if s not in IN_PROGRESS]
    rng.shuffle(complete)
    # Sessions still in progress are mostly recent ones; a few were left behind months ago.
    recent = [-(span - offset) / (IN_PROGRESS_AGE_DAYS * 86400) for offset in offsets]
    chosen = set(_weighted_sample(rng, recent, len(in_progress)))
    assigned = [
        in_progress.pop() if index in chosen else complete.pop() for index in range(sessions)
    ]
    # Withdrawals and corrections come weeks after finalization: prefer older records.
    consents = [i for i, stage in enumerate(assigned) if stage == FINALIZED_CONSENT]
    withdrawals = round(len(consents) * WITHDRAWAL_SHARE) or (1 if len(consents) >= 5 else 0)
    ages = [math.log(span - offsets[i] + 1) for i in consents]
    withdrawn = {consents[i] for i in _weighted_sample(rng, ages, withdrawals)}
    records = [i for i, s in enumerate(assigned) if s in (FINALIZED_CONSENT, FINALIZED_DECLINE)]
    corrected = set(rng.sample(records, round(len(records) * CORRECTION_SHARE)))
    plans = []
    for index, offset in enumerate(offsets):
        plans.append(
            SessionPlan(
                index=index,
                start=start + timedelta(seconds=offset),
                physician=rng.choices(physicians, weights=PHYSICIAN_WEIGHTS[: len(physicians)])[0],
                version=versions[rng.randrange(len(versions))],
                stage=assigned[index],
                withdrawn=index in withdrawn,
                corrected=index in corrected,
                what=random.Random(f"seed-demo:{seed}:{index}:what"),  # noqa: S311
                when=random.Random(f"seed-demo:{seed}:{index}:when"),  # noqa: S311
            )
        )
    return plans
