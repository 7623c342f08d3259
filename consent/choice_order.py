"""The order in which a teach-back question's choices are shown: per patient and per attempt.

Clicking the first choice every time must not pass the questions, so each attempt shows the
choices in an order drawn from its own seed:

- the seed is the first 63 bits of HMAC-SHA256(the session's `choice_order_secret`, 32
  random bytes from `secrets` made when the session is created; "<question key>:<round>").
  The page and the answer it sends compute the same seed, whichever browser or tab shows it,
  and no other patient, question or round shares it;
- `random.Random(seed).shuffle` draws the order (ORDER_ALGORITHM). A re-ask after a re-teach
  (round 2, 3, ...) with more than two choices never repeats the previous attempt's order nor
  puts its right answers at the same places: shuffling goes on with the same generator until
  it does not;
- the attempt stores the seed, the wording asked and the order shown, so the record shows the
  order the patient saw and the place they clicked, and an auditor can draw it again.

Choices are posted by a stable key (a hash of their text), never by their place on the page:
a replayed or reordered form cannot score a different choice, and the page's markup does not
give away which choice the pack lists first.
"""

import hashlib
import hmac
import random
from dataclasses import dataclass

from consent.models import Attempt, ConsentSession, Question, Wording

ORDER_ALGORITHM = "hmac-sha256-seed/random.Random.shuffle/v1"
# Enough draws to leave a repeated order out in practice; the rotation after them is a
# deterministic last resort.
MAX_DRAWS = 1000


def choice_key(text: str) -> str:
    """A choice's stable key in forms: the same text always gives the same key."""
    return "c" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def order_seed(session: ConsentSession, question: Question, round_number: int) -> int:
    message = f"{question.key}:{round_number}".encode()
    digest = hmac.new(session.choice_order_secret.encode(), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # fits a signed 64-bit column


def right_places(order: list[int], correct: object) -> frozenset[int]:
    """Where the right choices stood on the page, 0 for the top one."""
    right = set(correct) if isinstance(correct, list) else set()
    return frozenset(place for place, index in enumerate(order) if index in right)


def shuffled(
    count: int, seed: int, *, correct: object, previous: tuple[list[int], frozenset[int]] | None
) -> list[int]:
    """The order of `count` choices for `seed`; never the previous order nor its right places
    when there are more than two choices."""
    rng = random.Random(seed)  # noqa: S311 - an order to show, not a secret
    order = list(range(count))
    if count < 2:
        return order
    for _draw in range(MAX_DRAWS):
        rng.shuffle(order)
        if count <= 2 or previous is None:
            return order
        previous_order, previous_places = previous
        places = right_places(order, correct)
        same_places = places == previous_places and len(places) < count
        if order != previous_order and not same_places:
            return order
    return order[1:] + order[:1]


@dataclass(frozen=True)
class ShownChoice:
    key: str
    text: str
    # The choice's index in the wording's `choices` (what the attempt stores).
    index: int
    # 1 for the top choice on the page.
    place: int


@dataclass(frozen=True)
class Presentation:
    """One attempt's question as the patient sees it: the wording, and the choices in order."""

    round: int
    wording: Wording
    seed: int | None
    order: list[int]

    @property
    def choices(self) -> list[ShownChoice]:
        return [
            ShownChoice(
                key=choice_key(self.wording.choices[index]),
                text=self.wording.choices[index],
                index=index,
                place=place,
            )
            for place, index in enumerate(self.order, start=1)
        ]

    def indexes_of(self, keys: list[str]) -> list[int] | None:
        """The choice indexes of posted keys; None if one of them is not on this page."""
        by_key = {choice.key: choice.index for choice in self.choices}
        if not all(key in by_key for key in keys):
            return None
        return [by_key[key] for key in keys]


def presentation_of(
    session: ConsentSession, question: Question, round_number: int, attempts: list[Attempt]
) -> Presentation:
    """The question for `round_number`, given the earlier attempts at it (oldest first)."""
    wording = question.wording_for_round(round_number)
    if question.kind not in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
        return Presentation(round=round_number, wording=wording, seed=None, order=[])
    seed = order_seed(session, question, round_number)
    previous = None
    earlier = [a for a in attempts if a.round == round_number - 1 and a.shown_order]
    if earlier:
        last = earlier[-1]
        last_wording = question.wording(last.variant)
        previous = (list(last.shown_order), right_places(last.shown_order, last_wording.correct))
    order = shuffled(len(wording.choices), seed, correct=wording.correct, previous=previous)
    return Presentation(round=round_number, wording=wording, seed=seed, order=order)


def presentation_stored(question: Question, attempt: Attempt) -> Presentation:
    """The question exactly as an attempt showed it, from what the attempt stored."""
    return Presentation(
        round=attempt.round,
        wording=question.wording(attempt.variant),
        seed=attempt.order_seed,
        # Attempts stored before choices were shuffled showed them in the pack's order.
        order=list(attempt.shown_order or [])
        or (
            list(range(len(question.wording(attempt.variant).choices)))
            if question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE)
            else []
        ),
    )


def shown_places(attempt: Attempt) -> list[int]:
    """Where the attempt's chosen choices stood on the page (1 for the top one)."""
    if not isinstance(attempt.answer, list) or not attempt.shown_order:
        return []
    places = {index: place for place, index in enumerate(attempt.shown_order, start=1)}
    return sorted(places[i] for i in attempt.answer if i in places)
