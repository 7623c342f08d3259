"""The packs a content editor uploads in the workbench tests: the shipped MitraClip pack changed
(a new version, the stroke figure from 1 to 2 in 100, one question added), once with two errors
and once fixed."""

from django.contrib.auth.models import User

from consent.roles import CONTENT_EDITOR
from tests.factories import MITRACLIP_PATH, staff_user

NEW_VERSION = "2026.3"
ADDED_QUESTION_KEY = "stroke-figure"
ADDED_QUESTION_PROMPT = "Stroke happens to up to 2 in 100 people."
STROKE_DESCRIPTION = (
    'description = "Sudden harm to part of the brain when its blood supply is blocked, or from '
    'bleeding in the brain."\n'
)
STROKE_BEFORE = """key = "stroke"
name = "Stroke"
"""
STROKE_BEFORE_REST = """frequency = "uncommon"
frequency_text = "fewer than 1 in 100 people"
max_per_100 = 1
figure = "fewer-than"
group = "less-common"
"""
STROKE_AFTER = """key = "stroke"
name = "Stroke"
"""
STROKE_AFTER_REST = """frequency = "uncommon"
frequency_text = "up to 2 in 100 people"
max_per_100 = {figure}
figure = "up-to"
"""
ADDED_QUESTION = """
[[questions]]
key = "stroke-figure"
section = "{section}"
kind = "true-false"
prompt = "Stroke happens to up to 2 in 100 people."
correct = true
explanation = "This is true. Up to 2 in 100 people have a stroke after the procedure."
"""


def content_editor(*, username: str = "editor") -> User:
    return staff_user(username=username, role=CONTENT_EDITOR, first_name="Robin")


def mitraclip_text() -> str:
    return MITRACLIP_PATH.read_text(encoding="utf-8")


def changed_pack(*, errors: bool = False) -> str:
    """The MitraClip pack, version 2026.3: the stroke figure 1 -> 2 in 100 and a question added.

    With `errors`, two mistakes an author makes: the figure written as text ("2") and the new
    question naming a section that does not exist ("risk").
    """
    text = mitraclip_text()
    before = STROKE_BEFORE + STROKE_DESCRIPTION + STROKE_BEFORE_REST
    after = STROKE_AFTER + STROKE_DESCRIPTION + STROKE_AFTER_REST
    assert before in text
    text = text.replace('version = "2026.2"', f'version = "{NEW_VERSION}"', 1)
    text = text.replace(before, after.format(figure='"2"' if errors else "2"), 1)
    return text + ADDED_QUESTION.format(section="risk" if errors else "risks")


def line_of(text: str, fragment: str, *, after: str = "") -> int:
    """The 1-based number of the first line containing `fragment` (after the line with `after`)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if fragment in lines[i]) + 1
