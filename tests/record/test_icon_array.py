"""Honest numbers (issue 11, item 3): the risk picture marks what the pack says, "fewer than 1
in 100" as FEWER than one figure, says the complement beside it, keeps the pack's words in its
text alternative, and draws ONE picture for a group the source gives one figure for; on the
patient's risk page and in the record's PDF alike."""

import io
import re
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader

from consent.record import icon_array, pdf
from consent.record.icon_array import (
    complement_text,
    icon_array_svg,
    marks_for,
    picture_description,
    risk_pictures,
)
from consent.selectors.session import record_data_get
from tests.factories import consent_session, decided_session, patient_client

SVG = "{http://www.w3.org/2000/svg}"


def parse_svg(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(svg))  # noqa: S314 (markup this app drew, in a test)


def marked(svg: str) -> float:
    """What the picture marks, read back from the SVG: the sum of its figures' marks."""
    people = parse_svg(svg).findall(f"{SVG}g[@class='person']")
    assert len(people) == 100
    return sum(float(person.get("data-marked")) for person in people)


def filled(svg: str) -> tuple[int, int]:
    """Figures filled whole, and figures filled in part (by their fill, not their label)."""
    people = parse_svg(svg).findall(f"{SVG}g[@class='person']")
    whole = sum(1 for p in people if p.get("fill") == "#a61b29")
    part = sum(1 for p in people if p.get("fill", "").startswith("url(#"))
    return whole, part


def text_alternative(svg: str) -> tuple[str, str]:
    root = parse_svg(svg)
    return root.find(f"{SVG}title").text, root.find(f"{SVG}desc").text


def picture(max_per_100, frequency_text, figure):
    marks = marks_for(max_per_100, figure)
    description = picture_description(max_per_100, frequency_text, figure)
    return str(icon_array_svg(marks.full, marks.part, "risk-x", "title", description))


@pytest.mark.parametrize(
    "max_per_100,figure,expected,whole,part",
    [
        (1, "fewer-than", 0.5, 0, 1),  # fewer than 1 in 100: one figure half filled
        (5, "fewer-than", 4.5, 4, 1),  # fewer than 5: four and a half
        (0.5, "fewer-than", 0.25, 0, 1),
        (5, "about", 5, 5, 0),
        (0.5, "about", 0.5, 0, 1),  # about 1 in 200: half a figure
        (12.5, "up-to", 12.5, 12, 1),
        (100, "about", 100, 100, 0),
    ],
)
def test_the_svg_marks_what_the_figure_says(max_per_100, figure, expected, whole, part):
    svg = picture(max_per_100, "a figure", figure)
    assert marked(svg) == pytest.approx(expected)
    assert filled(svg) == (whole, part)
    if figure == "fewer-than":
        assert marked(svg) < max_per_100


def test_fewer_than_1_in_100_is_never_drawn_as_one_whole_person():
    svg = picture(1, "fewer than 1 in 100 people", "fewer-than")
    assert filled(svg) == (0, 1)
    gradient = parse_svg(svg).find(f"{SVG}defs/{SVG}linearGradient")
    offsets = [stop.get("offset") for stop in gradient.findall(f"{SVG}stop")]
    assert offsets == ["0.5", "0.5"]  # a hard line half way across the figure


def test_the_text_alternative_says_exactly_what_the_pack_says_and_the_complement():
    svg = picture(1, "fewer than 1 in 100 people", "fewer-than")
    _title, desc = text_alternative(svg)
    assert desc == (
        "Picture of 100 people. One figure is partly filled: fewer than 1 in 100 people. "
        "More than 99 in 100 do not."
    )
    assert complement_text(5, "about") == "About 95 in 100 do not."
    assert complement_text(5, "up-to") == "At least 95 in 100 do not."
    assert complement_text(0.5, "fewer-than") == "More than 99.5 in 100 do not."
    assert picture_description(12, "about 12 in 100 people", "about") == (
        "Picture of 100 people. 12 figures are filled: about 12 in 100 people. "
        "About 88 in 100 do not."
    )


def test_the_picture_escapes_its_text():
    svg = str(icon_array_svg(2, 0.0, "x", "<b>", "<script>alert(1)</script>"))
    assert "<script>" not in svg and "<b>" not in svg
    parse_svg(svg)  # still well-formed


# The MitraClip pack, as imported


@pytest.fixture
def session(db):
    return consent_session()


def test_the_mitraclip_risks_make_three_pictures_one_of_them_for_the_group(session):
    version = session.procedure_version
    pictures = risk_pictures(version.risks.order_by("position"), version.content)
    assert [[risk.key for risk in p.risks] for p in pictures] == [
        ["bleeding"],
        ["pericardial-effusion", "stroke", "emergency-surgery"],
        ["device-detachment"],
    ]
    bleeding, group, detachment = pictures
    assert bleeding.svg is None and detachment.svg is None  # no number in the source: words
    assert group.group == "less-common"
    assert marked(group.svg) == 0.5
    title, desc = text_alternative(group.svg)
    assert title == "Fewer than 1 in 100 people"
    assert desc == (
        "Picture of 100 people for Fluid around the heart (pericardial effusion), Stroke and "
        "Need for emergency surgery. One figure is partly filled: fewer than 1 in 100 people. "
        "More than 99 in 100 do not."
    )


def test_the_patient_risk_page_shows_one_picture_for_the_group(session):
    patient = patient_client(session)
    risks_section = session.procedure_version.sections.get(kind="risks")
    body = patient.get(f"/patient/section/{risks_section.position}/").content.decode()
    svgs = re.findall(r'<svg class="icon-array".*?</svg>', body, re.S)
    assert len(svgs) == 1
    assert marked(svgs[0]) == 0.5
    assert body.count('data-group="less-common"') == 1
    for name in ("Fluid around the heart (pericardial effusion)", "Stroke", "Need for emergency"):
        assert name in body
    assert (
        '<span class="d-block fw-semibold risk-picture-complement">More than 99 in 100 do not.'
        in (body)
    )
    assert "Fewer than 1 in 100 people" in body
    assert "1 of them is highlighted" not in body
    assert body.count("No picture: the information gives no number for this risk.") == 2


def test_the_record_carries_one_picture_for_the_group_and_the_pdf_shows_it_once(db):
    session = decided_session()
    data = record_data_get(session=session)
    blocks = data.risk_blocks
    assert [[risk.key for risk in block] for block in blocks] == [
        ["bleeding"],
        ["pericardial-effusion", "stroke", "emergency-surgery"],
        ["device-detachment"],
    ]
    group = blocks[1]
    assert {risk.picture_svg for risk in group} == {group[0].picture_svg}
    assert {risk.highlighted for risk in group} == {0.5}
    assert {risk.picture_complement for risk in group} == {"More than 99 in 100 do not."}
    plain = data.as_dict()["risks"]
    assert [r["group"] for r in plain] == ["", "less-common", "less-common", "less-common", ""]
    html = pdf.record_html(data, "CR-TEST")
    assert html.count('<img src="data:image/svg+xml') == 1
    assert "Fewer than 1 in 100 people. More than 99 in 100 do not." in html
    document = pdf.record_document_pdf(session, "CR-TEST")
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(document)).pages).split()
    )
    assert text.count("More than 99 in 100 do not.") == 2  # the caption and the text alternative
    assert "one figure for these problems" in text


@pytest.mark.parametrize("highlighted", [0.0, 0.5, 1.0, 2.5, 7.0, 99.5, 100.0])
def test_the_print_picture_marks_what_the_page_picture_marks(highlighted):
    """The record's PDF draws the same figures as the patient's page, as a few paths."""
    full = int(highlighted)
    part = highlighted - full
    svg = icon_array.icon_array_pdf_svg(highlighted)
    expected = {"marked": full, "part": 1 if part else 0, "plain": 100 - full - (1 if part else 0)}
    marks = icon_array.icon_array_marks(svg)
    assert {kind: marks.get(kind, 0) for kind in expected} == expected
    if part:
        assert f'offset="{part:g}"' in svg
    page = icon_array.icon_array_svg(full, part, "x", "t", "d")
    assert page.count('data-marked="1"') == full
