"""Comprehension analytics split by the language the patients were shown (issue 14, item 4):
sessions in English and in French, with known first tries, give known figures."""

import csv
import io

import pytest
from django.test import Client

from consent.models import AuditEvent
from consent.selectors.analytics import language_split
from tests.factories import (
    auditor,
    consent_session,
    logged_in,
    mitraclip_version,
    patient_client,
    physician,
    ready_session,
    translated_version,
)

pytestmark = pytest.mark.django_db

URL = "/audit/analytics/"
CSV_URL = "/audit/analytics/languages.csv"
PURPOSE, RISK = "purpose", "risk-common"  # questions 1 and 5


@pytest.fixture
def two_languages():
    """English: two sessions right throughout, one wrong at `risk-common`. French: one session
    wrong at `purpose`, one wrong at `risk-common`, and one not begun."""
    doctor = physician()
    english = mitraclip_version()
    french = translated_version(source=english)
    ready_session(version=english, doctor=doctor)
    ready_session(version=english, doctor=doctor)
    ready_session(version=english, doctor=doctor, wrong_key=RISK)
    ready_session(version=french, doctor=doctor, wrong_key=PURPOSE)
    ready_session(version=french, doctor=doctor, wrong_key=RISK)
    consent_session(version=french, doctor=doctor)
    return english, french


def first_tries(split, key):
    question = next(q for q in split.questions if q.key == key)
    return [(f.right, f.graded, f.percent) for f in question.first_tries]


def test_sessions_and_first_try_rates_per_question_per_language(two_languages):
    english, french = two_languages
    split = language_split(version=english)
    assert [(c.code, c.name, c.sessions) for c in split.languages] == [
        ("en", "English", 3),
        ("fr", "French (Français)", 3),
    ]
    assert first_tries(split, PURPOSE) == [(3, 3, 100), (1, 2, 50)]
    assert first_tries(split, RISK) == [(2, 3, 67), (1, 2, 50)]
    assert first_tries(split, "how-it-works") == [(3, 3, 100), (2, 2, 100)]
    # Answers in the patient's own words are not graded.
    assert first_tries(split, "own-words") == [(0, 0, None), (0, 0, None)]
    # Asked about the translation, the same figures: one procedure, its languages.
    assert language_split(version=french) == split


def test_one_language_alone_gives_one_column():
    english = mitraclip_version()
    ready_session(version=english, wrong_key=PURPOSE)
    split = language_split(version=english)
    assert not split.several
    assert first_tries(split, PURPOSE) == [(0, 1, 0)]


def test_the_page_shows_the_split_by_language(two_languages):
    english, _french = two_languages
    body = logged_in(auditor()).get(URL, {"version": english.pk}).content.decode()
    table = body.split('id="languages-table"')[1].split("</table>")[0]
    assert '<th scope="col" class="text-end">French (Français)</th>' in table
    sessions = table.split('class="analytics-language-sessions"')[1].split("</tr>")[0]
    assert sessions.count(">3</td>") == 2
    risk = table.split("5. risk-common</th>")[1].split("</tr>")[0]
    assert "2 of 3 (67 %)" in risk and "1 of 2 (50 %)" in risk


def test_the_csv_has_one_row_per_question_and_language(two_languages):
    english, _french = two_languages
    response = logged_in(auditor()).get(CSV_URL, {"version": english.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    risk = [r for r in rows if r["key"] == RISK]
    assert [(r["language"], r["sessions"], r["right_first"], r["percent"]) for r in risk] == [
        ("en", "3", "2", "67"),
        ("fr", "3", "1", "50"),
    ]
    assert len(rows) == 2 * english.questions.count()
    event = AuditEvent.objects.filter(action="analytics.viewed").latest("seq")
    assert event.payload == {"procedure_version": english.pk, "format": "csv"}


def test_the_csv_of_an_unknown_version_is_refused_with_a_message():
    response = logged_in(auditor()).get(CSV_URL, {"version": "999999"})
    assert response.status_code == 400
    assert "Choose a procedure version" in response.content.decode()


def test_the_csv_is_the_auditors_alone():
    doctor = physician()
    session = consent_session(doctor=doctor)
    anonymous = Client().get(CSV_URL)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    patient = patient_client(session).get(CSV_URL)
    assert patient.status_code == 302
    assert logged_in(doctor).get(CSV_URL).status_code == 403
    assert logged_in(auditor()).get(CSV_URL).status_code == 200
