"""The right signer's rule (consent/rules.py `typed_name_matches`): the name typed to sign must
be the registered patient's, as people write it. Written down in consent/README.md."""

import pytest

from consent.rules import name_parts, typed_name_matches

REGISTERED = "Maria Lopez"


@pytest.mark.parametrize(
    "typed",
    [
        "Maria Lopez",
        "maria lopez",
        "MARIA LOPEZ",
        "LÓPEZ, María",  # family name first, with a comma, accents and capitals
        "Lopez Maria",  # order
        "  Maria    Lopez  ",  # spaces
        "María López",
        "Maria-Lopez",  # a hyphen separates like a space
        "Maria Lopez.",
    ],
)
def test_tolerated_variants_of_the_patients_name_match(typed):
    assert typed_name_matches(typed, REGISTERED)


@pytest.mark.parametrize(
    "typed",
    [
        "Mickey Mouse",
        "Maria",  # the family name is missing
        "Lopez",  # the first given name is missing
        "Mrs Lopez",
        "Maria Lopes",  # another family name
        "Maria Elena Lopez",  # a middle name the registration does not know (decided: refused)
        "Maria Lopez Mouse",
        "M Lopez",  # an initial never stands for the first given name
        "",
        "  ",
        "-- ,",
    ],
)
def test_other_names_do_not_match(typed):
    assert not typed_name_matches(typed, REGISTERED)


@pytest.mark.parametrize(
    ("typed", "registered", "matches"),
    [
        # A registered middle name may be left out, or given by its initial.
        ("Maria Lopez", "Maria Elena Lopez", True),
        ("Maria E. Lopez", "Maria Elena Lopez", True),
        ("maria elena lopez", "María Elena López", True),
        ("Maria X. Lopez", "Maria Elena Lopez", False),
        ("Elena Lopez", "Maria Elena Lopez", False),  # the first given name is needed
        # Apostrophes, straight or curly, or none; letters NFKD leaves whole.
        ("Sean O'Brien", "Seán O\u2019Brien", True),
        ("Sean OBrien", "Seán O'Brien", True),
        ("Soren Kierkegaard", "Søren Kierkegaard", True),
        ("Lukasz Wisniewski", "Łukasz Wiśniewski", True),
        ("Jean Pierre Martin", "Jean-Pierre Martin", True),
        # A name of one part.
        ("cher", "Cher", True),
        ("Cher Bono", "Cher", False),
        # A family name repeated as a middle name is still needed last.
        ("Ana Garcia", "Ana Garcia Garcia", True),
        ("Ana Garcia Garcia", "Ana Garcia", False),
    ],
)
def test_middle_names_initials_and_other_alphabets(typed, registered, matches):
    assert typed_name_matches(typed, registered) is matches


def test_name_parts_fold_case_accents_and_punctuation_and_put_a_comma_name_in_order():
    assert name_parts("LÓPEZ, María-José O'Neil") == ["maria", "jose", "oneil", "lopez"]
