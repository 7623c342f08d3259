"""Each parser message finds the line of the uploaded file it is about."""

from consent.authoring.lines import problems_located
from consent.content.packs import PackError, parse_pack
from tests.factories import MITRACLIP_PATH
from tests.workbench import line_of, mitraclip_text

FRENCH_PATH = MITRACLIP_PATH.with_name("mitraclip.fr.toml")


def located(text: str) -> list[tuple[int | None, str]]:
    try:
        parse_pack(text.encode(), source_name="pack.toml")
    except PackError as error:
        return [
            (problem.line, problem.message)
            for problem in problems_located(text, error.messages, source_name="pack.toml")
        ]
    raise AssertionError("the pack was valid")


def test_a_field_of_an_entry_is_found_on_its_own_line():
    text = mitraclip_text().replace(
        'correct = [0]\nexplanation = "The clip works',
        'correct = [7]\nexplanation = "The clip works',
        1,
    )
    line = line_of(text, "correct = [7]")
    assert located(text) == [
        (line, 'questions[1] (key "how-it-works"): correct index 7 is out of range for 4 choices')
    ]


def test_a_misspelt_field_and_the_missing_one_point_at_the_typo_and_the_entry():
    text = mitraclip_text().replace(
        'prompt = "Who is MitraClip mainly for?"', 'promt = "Who is MitraClip mainly for?"', 1
    )
    typo = line_of(text, "promt =")
    header = (
        typo
        - 1
        - next(
            i
            for i, line in enumerate(reversed(text.splitlines()[: typo - 1]))
            if line == "[[questions]]"
        )
    )
    assert located(text) == [
        (typo, 'questions[2] (key "why-for-you"): unknown field "promt" (did you mean "prompt"?)'),
        (header, 'questions[2] (key "why-for-you"): missing required field "prompt"'),
    ]
    assert text.splitlines()[header - 1] == "[[questions]]"


def test_a_variant_field_is_found_inside_its_variant_not_in_the_question():
    text = mitraclip_text().replace(
        'prompt = "What does MitraClip do to a leaking mitral valve?"', "prompt = 3", 1
    )
    assert located(text) == [
        (
            line_of(text, "prompt = 3"),
            'questions[0] (key "purpose"): variants[0]: field "prompt" must be text, not a number',
        )
    ]


def test_a_top_level_field_and_a_syntax_error_have_their_lines():
    text = mitraclip_text().replace("\nschema = 1\n", "\nschema = 2\n", 1)
    assert located(text) == [
        (line_of(text, "schema = 2"), 'field "schema" is 2; this version reads schema 1')
    ]
    broken = mitraclip_text().replace('title = "MitraClip:', "title = MitraClip:", 1)
    [(line, message)] = located(broken)
    assert line == line_of(broken, "title = MitraClip:")
    assert message.startswith(f"is not valid TOML: Invalid value (at line {line}")


def test_a_key_written_inside_a_section_body_is_not_taken_for_the_field():
    text = mitraclip_text()
    body_start = text.index('body = """') + len('body = """\n')
    # A Markdown line that looks like a key, inside the first section's body.
    text = text[:body_start] + 'kind = "not a field"\n' + text[body_start:]
    text = text.replace('kind = "background"', 'kind = "backgrund"', 1)
    [(line, message)] = located(text)
    assert message.startswith('sections[0] (key "heart-and-valve"): field "kind" "backgrund"')
    assert line == line_of(text, 'kind = "backgrund"')


def test_a_rule_about_the_whole_pack_has_no_line():
    text = mitraclip_text().replace('kind = "alternatives"', 'kind = "other"', 1)
    assert located(text) == [(None, 'needs at least one section of kind "alternatives"')]


def test_a_message_about_a_top_level_field_by_name_points_at_it():
    text = FRENCH_PATH.read_text(encoding="utf-8")
    message = (
        "pack.toml: translation_of: its source, mitraclip (en) version 2026.2, is not imported"
    )
    [problem] = problems_located(text, [message], source_name="pack.toml")
    assert problem.line == line_of(text, "translation_of = {")
    assert problem.message.startswith("translation_of: its source")
