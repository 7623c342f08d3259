"""The comparison of a new pack with the version it replaces."""

from consent.authoring.changes import WordPiece, pack_compare, word_diff
from tests.factories import mitraclip_pack


def test_changed_wording_is_shown_word_by_word():
    assert word_diff("fewer than 1 in 100 people", "up to 2 in 100 people") == (
        WordPiece("fewer than 1", "removed"),
        WordPiece("up to 2", "added"),
        WordPiece("in 100 people", "same"),
    )


def test_entries_are_matched_by_key_and_figures_shown_before_and_after():
    before = mitraclip_pack().content
    after = mitraclip_pack().content
    after["risks"][2]["max_per_100"] = 2
    after["alternatives"].pop(0)
    after["sections"][0]["title"] = "Your heart"
    after["questions"][0]["variants"][0]["prompt"] = "What does the clip do?"
    comparison = pack_compare(before, after)
    by_key = {(e.part, e.key): e for e in comparison.entries}
    stroke = by_key[("risks", "stroke")]
    assert stroke.status == "changed"
    [figure] = stroke.fields
    assert (figure.name, figure.before, figure.after, figure.is_figure) == (
        "max_per_100",
        "1",
        "2",
        True,
    )
    removed = before["alternatives"][0]["key"]
    assert by_key[("alternatives", removed)].status == "removed"
    [title] = by_key[("sections", "heart-and-valve")].fields
    assert title.words == (
        WordPiece("Your heart", "same"),
        WordPiece("and the mitral valve", "removed"),
    )
    [variant] = by_key[("questions", "purpose")].fields
    assert variant.name == "variants[0].prompt"
    assert comparison.counts["risks"] == {"added": 0, "removed": 0, "changed": 1}
    assert pack_compare(before, mitraclip_pack().content).unchanged


def test_a_moved_section_says_from_where_to_where():
    before = mitraclip_pack().content
    after = mitraclip_pack().content
    after["sections"].insert(0, after["sections"].pop(2))
    moved = {e.key: e for e in pack_compare(before, after).entries}
    third = before["sections"][2]["key"]
    [position] = moved[third].fields
    assert (position.name, position.before, position.after) == ("position", "3", "1")
    assert moved[before["sections"][0]["key"]].fields[0].before == "1"
