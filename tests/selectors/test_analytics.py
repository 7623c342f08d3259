"""Comprehension analytics: the figures per procedure version, their charts, and the page that
shows them to auditors only."""

import base64
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from consent.content import importing
from consent.content.packs import parse_pack
from consent.forms.audit import ERROR_VERSION_UNKNOWN
from consent.models import AuditEvent, ConsentSession, ProcedureVersion, Question, Section
from consent.selectors.analytics import default_version, version_analytics
from consent.selectors.analytics import procedure_versions_with_sessions as versions_with_sessions
from consent.services import journey as journey_services
from consent.services import links
from consent.services import review as review_services
from consent.views.audit.charts import analytics_charts
from tests.factories import (
    BIRTH_DATE,
    MITRACLIP_PATH,
    ORIGIN,
    PASSWORD,
    auditor,
    consent_session,
    logged_in,
    mitraclip_version,
    patient_client,
    physician,
    ready_session,
    wrong_value,
)

pytestmark = pytest.mark.django_db

URL = "/audit/analytics/"
CELL = r"<t[hd][^>]*>(.*?)</t[hd]>"
Status = ConsentSession.Status


def _question(version: ProcedureVersion, key: str) -> Question:
    return version.questions.get(key=key)


def _section(version: ProcedureVersion, number: int) -> Section:
    return version.sections.order_by("position")[number - 1]


def _answer(session: ConsentSession, question: Question, answer, round_number: int) -> None:
    journey_services.answer_submit(
        session=session,
        question=question,
        answer=answer,
        round_number=round_number,
        origin=ORIGIN,
    )


def _read(session: ConsentSession, number: int, seconds: int) -> None:
    journey_services.section_leave(
        session=session,
        section=_section(session.procedure_version, number),
        seconds=seconds,
        go_to=number + 1,
        finished_reading=False,
        origin=ORIGIN,
    )


def _patient_opens_link(session: ConsentSession) -> ConsentSession:
    link, _token = links.patient_link_issue(session=session, issued_by=session.physician)
    assert links.patient_identity_confirm(link=link, birth_date=BIRTH_DATE, origin=ORIGIN)
    session.refresh_from_db()
    return session


@pytest.fixture
def doctor():
    return physician(username="dr.analytics")


@pytest.fixture
def crafted(doctor) -> ProcedureVersion:
    """Four consent sessions of the MitraClip version:

    - Anna answers everything, "purpose" wrong in every round (flagged); reads section 1 in
      30 s and section 2 in 2 s; her answer in her own words is assessed: 1 key point of 4;
    - Ben answers everything, "fasting" wrong in every round (flagged); reads section 1 in 60 s;
    - Cleo gets "purpose" right after one re-teach, misses "how-it-works" once and stops there
      (being re-taught); reads section 1 in 200 s;
    - Dan has not opened his link.
    """
    anna = ready_session(
        wrong_key="purpose", doctor=doctor, patient_name="Anna Crafted", reading=[(1, 30), (2, 2)]
    )
    ready_session(wrong_key="fasting", doctor=doctor, patient_name="Ben Crafted", reading=[(1, 60)])
    cleo = _patient_opens_link(consent_session(doctor=doctor, patient_name="Cleo Crafted"))
    consent_session(doctor=doctor, patient_name="Dan Crafted")
    version = anna.procedure_version
    _read(cleo, 1, 200)
    purpose, how = _question(version, "purpose"), _question(version, "how-it-works")
    _answer(cleo, purpose, wrong_value(purpose), 1)
    _answer(cleo, purpose, purpose.correct, 2)
    _answer(cleo, how, wrong_value(how), 1)
    review_services.question_review_save(
        session=anna,
        question=_question(version, "own-words"),
        covered_key_points=[1],
        note="Covered the clip; we talked about the rest.",
        physician=doctor,
    )
    return version


def _by_key(figures, key: str):
    return next(q for q in figures.questions if q.key == key)


# The figures


def test_sessions_are_counted_by_status(crafted):
    figures = version_analytics(version=crafted)
    counts = {s.status: s.sessions for s in figures.statuses}
    assert counts == {
        **dict.fromkeys(Status.values, 0),
        Status.CREATED: 1,
        Status.REVIEWING: 1,
        Status.READY_FOR_DISCUSSION: 2,
    }
    assert figures.session_count == 4
    assert [s.status for s in figures.statuses] == Status.values


def test_each_question_counts_each_patient_who_reached_it_once_by_its_outcome(crafted):
    figures = version_analytics(version=crafted)
    outcomes = {
        q.key: (q.reached, q.right_first, q.right_after_reteach, q.flagged, q.own_words)
        for q in figures.questions
    }
    assert outcomes["purpose"] == (3, 1, 1, 1, 0)
    assert outcomes["how-it-works"] == (3, 2, 0, 0, 0)
    assert outcomes["fasting"] == (2, 1, 0, 1, 0)
    assert outcomes["own-words"] == (2, 0, 0, 0, 2)
    assert outcomes["bathing"] == (2, 2, 0, 0, 0)
    assert _by_key(figures, "how-it-works").being_retaught == 1
    assert sum(q.being_retaught for q in figures.questions) == 1
    assert [q.number for q in figures.questions] == list(range(1, 17))
    assert _by_key(figures, "purpose").label == "1. purpose"


def test_a_question_nobody_reached_counts_nobody(doctor):
    session = _patient_opens_link(consent_session(doctor=doctor))
    purpose = _question(session.procedure_version, "purpose")
    _answer(session, purpose, wrong_value(purpose), 1)
    figures = version_analytics(version=session.procedure_version)
    assert _by_key(figures, "purpose").reached == 1
    assert _by_key(figures, "purpose").being_retaught == 1
    unreached = [q for q in figures.questions if q.key != "purpose"]
    assert all(q.reached == q.missed_first == q.flagged == 0 for q in unreached)
    assert [q.key for q in figures.most_missed] == ["purpose"]


def test_most_missed_ranks_questions_by_the_share_missed_on_the_first_try(crafted):
    figures = version_analytics(version=crafted)
    ranked = [(q.key, q.missed_first, q.graded, q.missed_percent) for q in figures.most_missed]
    assert ranked == [
        ("purpose", 2, 3, 67),
        ("fasting", 1, 2, 50),
        ("how-it-works", 1, 3, 33),
    ]
    assert figures.most_missed[0].section_title == "What MitraClip is and why it is offered"


def test_answers_in_own_words_report_the_key_points_the_physician_ticked(crafted):
    figures = version_analytics(version=crafted)
    own_words = figures.own_words_questions
    assert [q.key for q in own_words] == ["own-words"]
    assert (own_words[0].own_words, own_words[0].assessed) == (2, 1)
    assert (own_words[0].key_points_covered, own_words[0].key_points_possible) == (1, 4)
    assert own_words[0].key_points_percent == 25
    assert own_words[0].graded == 0


def test_reading_time_is_the_median_over_the_patients_who_opened_the_section(crafted):
    figures = version_analytics(version=crafted)
    first, second, third = figures.sections[:3]
    assert (first.readers, first.median_seconds, first.median_display) == (3, 60, "1 min 00 s")
    assert (second.readers, second.median_seconds, second.median_display) == (1, 2, "2 s")
    assert (third.readers, third.median_seconds, third.median_display) == (0, None, "")
    assert len(figures.sections) == crafted.sections.count()
    assert first.label == "1. " + _section(crafted, 1).title


def test_a_median_of_an_even_number_of_readers_is_the_mean_of_the_middle_two(crafted, doctor):
    extra = _patient_opens_link(consent_session(doctor=doctor, patient_name="Eve Crafted"))
    _read(extra, 1, 90)
    first = version_analytics(version=crafted).sections[0]
    assert (first.readers, first.median_seconds, first.median_display) == (4, 75, "1 min 15 s")


def test_equal_times_in_the_middle_give_that_time(crafted, doctor):
    extra = _patient_opens_link(consent_session(doctor=doctor, patient_name="Eve Crafted"))
    _read(extra, 1, 60)
    first = version_analytics(version=crafted).sections[0]
    assert (first.readers, first.median_seconds) == (4, 60)


def test_a_section_passed_faster_than_anyone_reads_is_pointed_out(crafted):
    figures = version_analytics(version=crafted)
    first, second = figures.sections[:2]
    assert not first.too_fast
    assert first.words_per_minute == round(first.words * 60 / 60)
    assert second.too_fast
    assert figures.too_fast == [second]


def test_the_default_version_is_the_latest_imported_that_has_sessions(doctor):
    used = mitraclip_version()
    consent_session(version=used, doctor=doctor)
    raw = MITRACLIP_PATH.read_bytes().replace(b'version = "2026.2"', b'version = "2026.3"', 1)
    newer = importing.pack_import(packs=[parse_pack(raw, source_name="newer.toml")])[0].version
    choices = versions_with_sessions()
    assert {c.version.pk: c.sessions for c in choices} == {used.pk: 1, newer.pk: 0}
    assert default_version(choices) == used
    consent_session(version=newer, doctor=doctor, patient_name="Newer Patient")
    assert default_version(versions_with_sessions()) == newer


# The charts


def _svg(src: str) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert src.startswith(prefix)
    return base64.b64decode(src[len(prefix) :]).decode("utf-8")


def test_charts_are_self_contained_svg_images_without_scripts(crafted):
    charts = analytics_charts(version_analytics(version=crafted))
    for chart in (charts.statuses, charts.questions, charts.most_missed, charts.reading):
        svg = _svg(chart.src)
        assert svg.startswith("<svg")
        assert "<?xml" not in svg
        assert "<script" not in svg
        assert "kozea.github.io" not in svg
        assert chart.width > 0
        assert chart.height > 0
        assert "table" in chart.alt
    assert "1. purpose" in _svg(charts.questions.src)
    assert "purpose (67 %)" in charts.most_missed.alt


def test_no_chart_is_drawn_for_figures_that_do_not_exist_yet(doctor):
    session = consent_session(doctor=doctor)
    charts = analytics_charts(version_analytics(version=session.procedure_version))
    assert charts.statuses is not None
    assert (charts.questions, charts.most_missed, charts.reading) == (None, None, None)


# The page


def test_the_page_shows_each_chart_as_an_image_beside_a_table_of_its_numbers(crafted):
    response = logged_in(auditor()).get(URL)
    assert response.status_code == 200
    assert response.context["audit_tab"] == "analytics"
    html = response.content.decode()
    images = re.findall(
        r'<img class="analytics-chart" src="(data:image/svg\+xml;base64,[^"]+)"', html
    )
    assert len(images) == 4
    for table_id in ("statuses-table", "questions-table", "missed-table", "reading-table"):
        assert f'id="{table_id}"' in html
    assert html.count("<caption") == 5  # and the assessed answers in own words
    assert 'scope="col"' in html
    assert 'scope="row"' in html
    assert re.search(r'alt="[^"]{40,}"', html)


def test_the_page_shows_the_numbers_in_its_tables(crafted):
    html = logged_in(auditor()).get(URL).content.decode()
    missed = html[html.index('id="missed-table"') :]
    missed = missed[: missed.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", missed, flags=re.S)
    cells = [
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(CELL, row, re.S)]
        for row in rows[1:]
    ]
    assert cells == [
        ["1", "1. purpose", "What MitraClip is and why it is offered", "2 of 3 (67 %)", "1"],
        ["2", "10. fasting", "The day of the procedure", "1 of 2 (50 %)", "1"],
        ["3", "2. how-it-works", "How MitraClip works", "1 of 3 (33 %)", "0"],
    ]
    assert "1 min 00 s" in html
    assert "1 of 4 (25 %)" in html


def test_the_page_names_no_patient(crafted):
    response = logged_in(auditor()).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    # The analytics of these sessions, charts and tables, only without a patient's name.
    assert html.count('<img class="analytics-chart"') == 4
    assert 'id="missed-table"' in html
    for name in ("Anna", "Ben", "Cleo", "Dan", "Crafted", "MRN-123", "1948"):
        assert name not in html


def test_the_page_shows_the_version_chosen(crafted, doctor):
    raw = MITRACLIP_PATH.read_bytes().replace(b'version = "2026.2"', b'version = "2026.3"', 1)
    newer = importing.pack_import(packs=[parse_pack(raw, source_name="newer.toml")])[0].version
    client = logged_in(auditor())
    assert client.get(URL).context["figures"].version == crafted
    response = client.get(URL, {"version": newer.pk})
    assert response.status_code == 200
    assert response.context["figures"].version == newer
    assert "No consent sessions yet for this procedure version." in response.content.decode()
    assert response.context["charts"] is None


@pytest.mark.parametrize("value", ["abc", "999999", "1; DROP TABLE", "-1", "1.5"])
def test_a_bad_version_parameter_shows_a_plain_message(crafted, value):
    response = logged_in(auditor()).get(URL, {"version": value})
    assert response.status_code == 400
    html = response.content.decode()
    assert str(ERROR_VERSION_UNKNOWN) in html
    assert 'aria-describedby="version-error"' in html
    assert "data:image/svg+xml" not in html


def test_without_any_session_the_page_says_so(doctor):
    mitraclip_version()
    response = logged_in(auditor()).get(URL)
    assert response.status_code == 200
    assert "No consent sessions yet" in response.content.decode()
    assert "<img" not in response.content.decode()


def test_without_any_procedure_version_the_page_says_so():
    response = logged_in(auditor()).get(URL)
    assert response.status_code == 200
    assert "No consent sessions yet" in response.content.decode()


def test_sessions_nobody_started_show_their_status_and_no_other_chart(doctor):
    consent_session(doctor=doctor)
    html = logged_in(auditor()).get(URL).content.decode()
    assert html.count("data:image/svg+xml") == 1
    assert "No patient has answered a question yet." in html
    assert "No patient has opened a section yet." in html


def _queries_for_page(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_the_page_makes_the_same_number_of_queries_for_2_or_6_sessions(doctor):
    client = logged_in(auditor())
    for number in range(2):
        session = ready_session(wrong_key="purpose", doctor=doctor, patient_name=f"P{number}")
        _read(session, 1, 40 + number)
    with_two = _queries_for_page(client)
    for number in range(2, 6):
        session = ready_session(wrong_key="fasting", doctor=doctor, patient_name=f"P{number}")
        _read(session, 1, 40 + number)
        _read(session, 2, 3)
    with_six = _queries_for_page(client)
    assert version_analytics(version=session.procedure_version).session_count == 6
    assert with_six == with_two


# Who may see it


def test_an_anonymous_visitor_is_sent_to_log_in():
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_patient_link_does_not_open_the_page(doctor):
    client = patient_client(consent_session(doctor=doctor))
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_physician_is_refused(doctor):
    client = logged_in(doctor)
    assert client.get(URL).status_code == 403
    assert not AuditEvent.objects.filter(action="analytics.viewed").exists()


def test_an_auditor_sees_the_page():
    client = logged_in(auditor())
    assert client.get(URL).status_code == 200


def test_a_superuser_sees_the_page():
    admin = get_user_model().objects.create_superuser(username="root", password=PASSWORD)
    client = logged_in(admin)
    assert client.get(URL).status_code == 200


def test_the_page_is_never_cached():
    assert "no-cache" in logged_in(auditor()).get(URL)["Cache-Control"]


def test_viewing_the_page_writes_an_audit_event(crafted):
    reader = auditor(username="auditor.reads")
    client = logged_in(reader)
    client.get(URL, HTTP_USER_AGENT="analytics-test")
    event = AuditEvent.objects.filter(action="analytics.viewed").get()
    assert event.actor == reader
    assert event.role == AuditEvent.Role.AUDITOR
    assert event.payload == {"procedure_version": crafted.pk}
    assert event.client == "analytics-test"
    assert event.session is None


def test_a_bad_version_parameter_is_audited_without_a_version(crafted):
    logged_in(auditor()).get(URL, {"version": "nope"})
    event = AuditEvent.objects.filter(action="analytics.viewed").get()
    assert event.payload == {"procedure_version": None}
