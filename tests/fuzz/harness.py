"""The fuzz harness: generated inputs sent through the Django test client, one savepoint each.

`fuzz(...)` builds nothing itself: the test builds its session once (a fixture), and every
generated input runs inside a savepoint that is rolled back afterwards, so each input meets
the same state and the whole form costs seconds. Each input must get a response under 500;
a refused input (4xx) must say what is wrong and store nothing; an accepted one must store at
most one row of each kind, and sending it again must not store a second (`replay`).

The figures (inputs tried, 4xx, 2xx/3xx, 5xx) go to the test's user_properties, which reach
the controller under xdist too; tests/fuzz/summary.py prints them at the end of the run.
"""

import html
import os
from collections import Counter
from collections.abc import Callable, Iterable
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.models import (
    Addendum,
    Attempt,
    ConsentRecord,
    ConsentSession,
    Discussion,
    PackDraft,
    PatientLink,
    PatientQuestion,
    ProcedureVersion,
    QuestionReview,
    SectionView,
    Signature,
)

# Inputs per form: 30 in the everyday suite (`make test`: about half a minute on two workers),
# 500 in the fuzz campaign (`make fuzz`, FUZZ_EXAMPLES=500: about 10 minutes on two workers
# here, since each input is a real request). Derandomized in CI, so a run is the same run every
# time and never finds something new behind a merge.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Rows a form may add; evidence is counted, audit events are not (page views write them).
COUNTED: tuple[type[Model], ...] = (
    ConsentSession,
    PatientLink,
    SectionView,
    Attempt,
    PatientQuestion,
    QuestionReview,
    Discussion,
    Signature,
    ConsentRecord,
    Addendum,
    # The content editors' workbench: a draft per upload, a procedure version per publication.
    PackDraft,
    ProcedureVersion,
)

# What a page shows when it refuses input: a form error, an alert, or a status message.
# The last one is the site's own 400 page (templates/400.html): a request Django cannot parse.
MESSAGE_MARKERS = (
    'role="alert"',
    "invalid-feedback",
    "alert-danger",
    "alert-warning",
    "errorlist",
    "That could not be sent",
)


def rows() -> dict[str, int]:
    """Every counted table's row count, in one query (this runs twice per input)."""
    from django.db import connection

    quote = connection.ops.quote_name
    # Table names from the models, never from input.
    counts = ", ".join(f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})" for m in COUNTED)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        row = cursor.fetchone()
    return {model.__name__: count for model, count in zip(COUNTED, row, strict=True)}


@dataclass
class Figures:
    form: str
    database: str
    tried: int = 0
    refused: int = 0
    accepted: int = 0
    errors: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def as_property(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "database": self.database,
            "tried": self.tried,
            "4xx": self.refused,
            "2xx/3xx": self.accepted,
            "5xx": self.errors,
        }


Send = Callable[[Client, Any], HttpResponse]


def _short(value: Any) -> str:
    """An input as the failure message shows it: its repr, cut to a readable length."""
    text = repr(value)
    if len(text) <= 400:
        return text
    return f"{text[:200]} ... {text[-150:]} ({len(text)} characters)"


def _form_errors(response: HttpResponse) -> bool:
    context = getattr(response, "context", None)
    form = context.get("form") if context is not None else None
    return bool(getattr(form, "errors", None))


def message_shown(response: HttpResponse) -> bool:
    """Whether a refusal says something: a form's own error text, or an alert on the page."""
    if response.get("Content-Type", "").startswith("text/html"):
        content = response.content.decode(errors="replace")
        context = getattr(response, "context", None)
        form = context.get("form") if context is not None else None
        errors = getattr(form, "errors", None)
        if errors:
            texts = [html.escape(str(e)) for messages in errors.values() for e in messages]
            # Django escapes quotes as &#x27;; html.escape writes &#x27; too.
            if any(text in content for text in texts):
                return True
        return any(marker in content for marker in MESSAGE_MARKERS)
    # Not a page (a file or JSON answer): a 404 or 405 is its own message.
    return response.status_code in (404, 405)


def fuzz(
    *,
    name: str,
    client: Client,
    strategy: st.SearchStrategy,
    send: Send,
    record_property: Callable[[str, object], None],
    replay: bool = True,
    may_add: Iterable[str] | None = None,
    silent_refusals: Iterable[int] = (404, 405),
) -> Figures:
    """Send EXAMPLES generated inputs (hypothesis) through `send`; check and count each.

    `may_add` names the models an accepted input may add one row to (all counted models when
    None); `silent_refusals` are statuses that need no message on a page (a 404 is one).
    """
    from django.db import connection

    figures = Figures(form=name, database=connection.vendor)
    allowed = set(may_add) if may_add is not None else {m.__name__ for m in COUNTED}
    silent = set(silent_refusals)
    cookies = deepcopy(client.cookies)

    @FUZZ
    @given(strategy)
    def one(value: Any) -> None:
        figures.tried += 1
        sid = transaction.savepoint()
        try:
            _check_one(client, value, send, figures, allowed, silent, replay)
        finally:
            transaction.savepoint_rollback(sid)
            client.cookies = deepcopy(cookies)

    one()
    record_property("fuzz", figures.as_property())
    assert figures.tried >= EXAMPLES, f"{name}: only {figures.tried} inputs were generated"
    assert not figures.failures, f"{name}: {len(figures.failures)} failures:\n" + "\n".join(
        sorted(figures.failures, key=lambda failure: "5" not in failure[:12])[:6]
    )
    return figures


def _check_one(
    client: Client,
    value: Any,
    send: Send,
    figures: Figures,
    allowed: set[str],
    silent: set[int],
    replay: bool,
) -> None:
    before = rows()
    try:
        response = send(client, value)
    except Exception as error:  # a streamed answer fails while it is read: a server error too
        figures.errors += 1
        figures.failures.append(f"raised {error!r} for {_short(value)}")
        return
    status = response.status_code
    figures.statuses[status] += 1
    after = rows()
    added = {key: after[key] - before[key] for key in after if after[key] != before[key]}
    if status >= 500:
        figures.errors += 1
        exc = getattr(response, "exc_info", None)
        figures.failures.append(f"{status} for {_short(value)}: {exc[1]!r}" if exc else f"{status}")
        return
    if status >= 400:
        figures.refused += 1
        if added:
            figures.failures.append(f"refused ({status}) but stored {added} for {_short(value)}")
        if status not in silent and not message_shown(response):
            figures.failures.append(f"refused ({status}) without a message for {_short(value)}")
        return
    figures.accepted += 1
    if _form_errors(response):
        # A page that shows the form again with its errors (some pages answer 200).
        if added:
            figures.failures.append(f"form refused but stored {added} for {_short(value)}")
        if not message_shown(response):
            figures.failures.append(f"form refused without a message for {_short(value)}")
        return
    wrong = {k: n for k, n in added.items() if n < 0 or n > 1 or k not in allowed}
    if wrong:
        figures.failures.append(f"accepted ({status}) but rows changed {wrong} for {_short(value)}")
        return
    if replay and added:
        again = send(client, value)
        if again.status_code >= 500:
            figures.errors += 1
            figures.failures.append(f"replay {again.status_code} for {_short(value)}")
        elif rows() != after:
            figures.failures.append(f"replay stored again for {_short(value)}: {rows()} != {after}")


# Strategies shared by the forms.

# Text as people and attackers type it: any Unicode (NUL and controls included), long runs,
# and the shapes that broke things before.
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "%00",
        "\r\n",
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        "9999-12-31",
        "0001-01-01",
        "-1",
        "1e309",
        "NaN",
        "١٢",
        "\U0001d7d9\U0001d7da",  # mathematical double-struck digits
        "x" * 6000,
    ]
)
TEXT = st.one_of(st.text(max_size=300), NASTY)
SHORT = st.one_of(st.text(max_size=20), NASTY)
INTEGER_TEXT = st.one_of(st.integers(-(10**20), 10**20).map(str), SHORT)


def maybe(value: st.SearchStrategy) -> st.SearchStrategy:
    """A field's value, or the field missing (None: the sender leaves it out)."""
    return st.one_of(st.none(), value)


def form_data(fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """Posted form data: each field generated or left out, plus a few unknown fields."""
    return st.fixed_dictionaries(
        {name: maybe(strategy) for name, strategy in fields.items()},
        optional={"unexpected": TEXT},
    ).map(lambda data: {k: v for k, v in data.items() if v is not None})


def near(valid: dict[str, Any], fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """Form data close to a valid post: each field kept (two times in three) or generated, so
    accepted inputs are common enough to check that they store once."""
    return st.fixed_dictionaries(
        {
            name: st.one_of(st.just(valid[name]), st.just(valid[name]), strategy)
            if name in valid
            else maybe(strategy)
            for name, strategy in fields.items()
        }
    ).map(lambda data: {k: v for k, v in data.items() if v is not None})


def either(valid: dict[str, Any], fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """Generated form data, or data near a valid post."""
    return st.one_of(form_data(fields), near(valid, fields))
