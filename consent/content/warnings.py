"""Warnings about teach-back questions that can be answered without understanding.

A pack with warnings is valid and imports; `import_pack` prints each warning, and
`import_pack --strict` refuses the pack. Each warning names the file, the question (and the
variant) and the rule, so an author knows what to rewrite (docs/content-packs.md):

- `long-right-answer`: a right choice is more than 1.5 times as long as the longest wrong one
  (test-wise readers pick the longest, most careful-sounding choice);
- `all-or-none-of-the-above`: a choice is "all of the above", "none of the above" or the like
  (with shuffled choices "above" means nothing, and it rewards partial knowledge);
- `stem-contains-answer`: the prompt contains the text of a right choice;
- `true-false-several-claims`: a true/false statement makes more than one claim, so "true"
  or "false" has no single meaning. The heuristic: more than one sentence; or a semicolon; or
  ", and" / ", but" / " but "; or " and " followed by a word that starts a new clause ("you",
  "it", "they", "the", ...). "Teeth and gums" (one claim about two things) passes.
- `no-facts`: the pack declares no [[facts]], so nothing checks that its questions test the
  decision-critical facts (packs written before facts existed stay valid; `--strict` refuses).
"""

import re
from typing import Any

from consent.content.packs import Pack

LONG_RIGHT_RATIO = 1.5
# Shorter right answers appear in prompts by chance ("Stroke" in a question about strokes).
STEM_ANSWER_MIN_LENGTH = 12

ALL_OR_NONE = re.compile(
    r"\b(all|none|both|neither|any)\s+of\s+(the\s+)?(above|these|them|those)\b", re.IGNORECASE
)
SENTENCE_END = re.compile(r"[.!?][\"\u201d\u2019)]*\s+(?=[\"\u201c(]?[A-Z0-9])")
CLAUSE_JOIN = re.compile(
    r";|,\s*(and|but)\s|\sbut\s|\sand\s+(you|your|it|its|they|there|this|that|the|he|she|we|"
    r"a|an)\s",
    re.IGNORECASE,
)


def _plain(text: str) -> str:
    """Lower case, letters and digits only, single spaces: how a reader compares wordings."""
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def several_claims(statement: str) -> bool:
    """Whether a true/false statement makes more than one claim (the heuristic above)."""
    text = " ".join(statement.split())
    if len(SENTENCE_END.findall(text.rstrip(".!? "))) >= 1:
        return True
    return CLAUSE_JOIN.search(text) is not None


def _wordings(question: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The question's own wording and each variant's, with the label a warning names them by."""
    wordings = [("", question)]
    for index, variant in enumerate(question.get("variants") or []):
        wordings.append((f" variants[{index}]", {**variant, "kind": question.get("kind")}))
    return wordings


def _wording_warnings(wording: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    kind = wording.get("kind")
    prompt = str(wording.get("prompt", ""))
    if kind == "true-false":
        if several_claims(prompt):
            found.append(
                (
                    "true-false-several-claims",
                    "the statement seems to make more than one claim (several sentences, or "
                    "clauses joined by “and”, “but” or “;”); make it one statement",
                )
            )
        return found
    if kind not in ("single", "multiple"):
        return found
    choices = [str(choice) for choice in wording.get("choices") or []]
    correct = [i for i in wording.get("correct") or [] if 0 <= i < len(choices)]
    right = [choices[i] for i in correct]
    wrong = [choice for i, choice in enumerate(choices) if i not in correct]
    if wrong:
        longest_wrong = max(len(choice) for choice in wrong)
        for text in right:
            if len(text) > LONG_RIGHT_RATIO * longest_wrong:
                found.append(
                    (
                        "long-right-answer",
                        f"the right answer “{text}” is {len(text)} characters long, more "
                        f"than {LONG_RIGHT_RATIO:g} times the longest wrong one "
                        f"({longest_wrong}); make the choices alike in length",
                    )
                )
    for text in choices:
        if ALL_OR_NONE.search(text):
            found.append(
                (
                    "all-or-none-of-the-above",
                    f"the choice “{text}” refers to the other choices; choices are shown in a "
                    "different order to each patient, so write each as a statement of its own",
                )
            )
    stem = _plain(prompt)
    for text in right:
        plain = _plain(text)
        if len(plain) >= STEM_ANSWER_MIN_LENGTH and plain in stem:
            found.append(
                (
                    "stem-contains-answer",
                    f"the prompt contains the right answer “{text}”",
                )
            )
    return found


def pack_warnings(pack: Pack) -> list[str]:
    """Every warning about the pack's questions, one line each, in the pack's order."""
    lines = []
    if "facts" not in pack.content:
        lines.append(
            f"{pack.source_name}: warning [no-facts]: the pack declares no [[facts]], so "
            "nothing checks that its questions test the decision-critical facts (purpose, "
            "benefit, each risk, alternatives, saying no, what happens after); add them"
        )
    for index, question in enumerate(pack.content.get("questions", [])):
        where = f'questions[{index}] (key "{question.get("key")}")'
        for label, wording in _wordings(question):
            for rule, message in _wording_warnings(wording):
                lines.append(f"{pack.source_name}: {where}{label}: warning [{rule}]: {message}")
    return lines
