"""python manage.py import_pack: valid packs become immutable procedure versions, all or none."""

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from consent.content.packs import load_pack
from consent.models import (
    Alternative,
    AuditEvent,
    ProcedureVersion,
    Question,
    Risk,
    Section,
)
from tests.content.test_packs import NAME, to_toml, valid_pack

pytestmark = pytest.mark.django_db

MITRACLIP_PATH = settings.BASE_DIR / "content" / "mitraclip.en.toml"
MODELS = (ProcedureVersion, Section, Risk, Alternative, Question)


def write_pack(directory: Path, pack: dict | None = None, *, name: str = NAME) -> Path:
    path = directory / name
    path.write_text(to_toml(valid_pack() if pack is None else pack), encoding="utf-8")
    return path


def bad_pack() -> dict:
    pack = valid_pack()
    pack["questions"][3]["correct"] = [4]
    return pack


BAD_MESSAGE = (
    f'{NAME}: questions[3] (key "risk-common"): correct index 4 is out of range for 3 choices'
)


def import_pack(*paths: Path | str) -> tuple[str, str]:
    """Run the command; return what it wrote to stdout and stderr."""
    stdout, stderr = StringIO(), StringIO()
    call_command("import_pack", *map(str, paths), stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def refused(*paths: Path | str) -> tuple[str, str]:
    """Run the command expecting a refusal; return the CommandError message and stderr."""
    stdout, stderr = StringIO(), StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_pack", *map(str, paths), stdout=stdout, stderr=stderr)
    assert stdout.getvalue() == ""
    return str(excinfo.value), stderr.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (*MODELS, AuditEvent)}


# A good pack


def test_good_pack_is_imported_as_a_procedure_version():
    import_pack(MITRACLIP_PATH)

    version = ProcedureVersion.objects.get()
    pack = load_pack(MITRACLIP_PATH)
    assert (version.slug, version.language, version.version) == ("mitraclip", "en", "2026.2")
    assert version.title == pack.content["title"]
    assert version.summary == pack.content["summary"]
    assert version.reviewed_by == ""
    assert version.source_name == "mitraclip.en.toml"
    assert version.content_hash == pack.content_hash
    assert version.content == pack.content


def test_import_reports_the_version_and_its_hash():
    stdout, stderr = import_pack(MITRACLIP_PATH)

    version = ProcedureVersion.objects.get()
    assert stdout.splitlines()[0] == (
        f"mitraclip.en.toml: mitraclip (en) version 2026.2 imported "
        f"[sha256 {version.content_hash[:16]}]"
    )
    # The rest is the readability report (tests/content/test_readability.py).
    assert all(line.startswith("  ") for line in stdout.splitlines()[1:])
    # Only the pack's warnings (consent/content/warnings.py), never an error.
    assert all(" warning [" in line for line in stderr.splitlines())


def test_reviewed_by_is_stored_when_the_pack_has_it(tmp_path):
    pack = valid_pack()
    pack["reviewed_by"] = "Dr A. Martin, cardiology"
    pack["reviewed_on"] = "2026-03-01"

    import_pack(write_pack(tmp_path, pack))

    version = ProcedureVersion.objects.get()
    assert version.reviewed_by == "Dr A. Martin, cardiology"
    assert version.reviewed_on == date(2026, 3, 1)
    assert version.clinically_reviewed


def test_sections_are_stored_in_file_order():
    import_pack(MITRACLIP_PATH)

    file_keys = [section["key"] for section in load_pack(MITRACLIP_PATH).content["sections"]]
    stored = ProcedureVersion.objects.get().sections.order_by("position")
    assert [section.key for section in stored] == file_keys
    assert [section.position for section in stored] == list(range(1, len(file_keys) + 1))


def test_section_markdown_is_kept_and_rendered_to_html():
    import_pack(MITRACLIP_PATH)

    section = Section.objects.get(key="mitral-regurgitation")
    assert section.kind == "background"
    assert section.title == "When the mitral valve leaks"
    assert "**mitral regurgitation**" in section.body
    assert "<strong>mitral regurgitation</strong>" in section.body_html
    assert "<li>tiredness (fatigue)</li>" in section.body_html


def test_section_body_html_is_sanitized(tmp_path):
    pack = valid_pack()
    pack["sections"][0]["body"] = (
        "Your valve leaks.\n\n<script>alert(1)</script>\n\n"
        "<img src=x onerror=alert(1)> [more](javascript:alert(1))"
    )

    import_pack(write_pack(tmp_path, pack))

    html = Section.objects.get(key="purpose").body_html
    assert "<p>Your valve leaks.</p>" in html
    assert "<script" not in html
    assert "onerror" not in html
    assert "javascript:" not in html


def test_risks_are_stored_in_file_order_with_their_numbers():
    import_pack(MITRACLIP_PATH)

    risks = list(ProcedureVersion.objects.get().risks.order_by("position"))
    assert [risk.key for risk in risks] == [
        "bleeding",
        "pericardial-effusion",
        "stroke",
        "emergency-surgery",
        "device-detachment",
    ]
    assert [risk.max_per_100 for risk in risks] == [
        None,
        Decimal("1"),
        Decimal("1"),
        Decimal("1"),
        None,
    ]
    assert risks[0].frequency == "most-common"
    assert risks[0].frequency_text == "the most common problem with this procedure"


@pytest.mark.parametrize("number", [0.5, 0.125, 0.001, 99.999])
def test_decimal_max_per_100_is_stored_exactly_as_written(tmp_path, number):
    pack = valid_pack()
    pack["risks"][1]["max_per_100"] = number

    import_pack(write_pack(tmp_path, pack))

    assert Risk.objects.get(key="stroke").max_per_100 == number


def test_long_prose_fields_are_stored_whole(tmp_path):
    pack = valid_pack()
    pack["title"] = "A very long title " * 40
    pack["risks"][1]["name"] = "A very long risk name " * 30

    import_pack(write_pack(tmp_path, pack))

    assert Risk.objects.get(key="stroke").name == pack["risks"][1]["name"]


def test_alternatives_are_stored_in_file_order():
    import_pack(MITRACLIP_PATH)

    alternatives = list(ProcedureVersion.objects.get().alternatives.order_by("position"))
    assert [(a.key, a.name) for a in alternatives] == [
        ("surgical-repair", "Heart surgery to repair the valve"),
        ("surgical-replacement", "Heart surgery to replace the valve"),
    ]


def test_questions_are_stored_in_file_order():
    import_pack(MITRACLIP_PATH)

    file_keys = [question["key"] for question in load_pack(MITRACLIP_PATH).content["questions"]]
    stored = ProcedureVersion.objects.get().questions.order_by("position")
    assert [question.key for question in stored] == file_keys


def test_questions_keep_their_section_kind_choices_and_answers(tmp_path):
    import_pack(write_pack(tmp_path))

    questions = {q.key: q for q in Question.objects.select_related("section")}
    assert questions["risk-common"].section.key == "risks"
    assert questions["risk-common"].kind == "single"
    assert questions["risk-common"].choices == ["Bleeding", "Stroke", "The clip coming loose"]
    assert questions["risk-common"].correct == [0]
    assert questions["risks-rare"].correct == [0, 1]
    assert questions["clip-loose"].correct is False
    assert questions["clip-loose"].choices == []
    assert questions["own-words"].correct is None
    assert questions["own-words"].key_points == [
        "The valve leaks.",
        "The clip makes the leak smaller.",
    ]
    assert questions["purpose"].key_points == []


def test_new_import_writes_an_audit_event():
    import_pack(MITRACLIP_PATH)

    version = ProcedureVersion.objects.get()
    event = AuditEvent.objects.get()
    assert event.action == "procedure_version.imported"
    assert event.role == AuditEvent.Role.SYSTEM
    assert event.actor is None
    assert event.object_type == "consent.procedureversion"
    assert event.object_id == str(version.pk)
    assert event.payload == {
        "slug": "mitraclip",
        "version": "2026.2",
        "hash": version.content_hash,
    }


def test_two_packs_are_imported_in_one_command(tmp_path):
    other = valid_pack()
    other["slug"] = "tavi"

    stdout, _stderr = import_pack(write_pack(tmp_path), write_pack(tmp_path, other, name="t.toml"))

    assert sorted(ProcedureVersion.objects.values_list("slug", flat=True)) == ["mitraclip", "tavi"]
    assert stdout.count(" imported [sha256 ") == 2
    assert AuditEvent.objects.filter(action="procedure_version.imported").count() == 2


# Importing again


def test_importing_the_same_pack_again_changes_nothing():
    import_pack(MITRACLIP_PATH)
    version = ProcedureVersion.objects.get()
    before = row_counts()

    import_pack(MITRACLIP_PATH)

    assert row_counts() == before
    assert ProcedureVersion.objects.get() == version


def test_importing_the_same_pack_again_says_unchanged():
    import_pack(MITRACLIP_PATH)

    stdout, stderr = import_pack(MITRACLIP_PATH)

    version = ProcedureVersion.objects.get()
    assert stdout == (
        f"mitraclip.en.toml: mitraclip (en) version 2026.2 unchanged, already imported "
        f"[sha256 {version.content_hash[:16]}]\n"
    )
    # Only the pack's warnings (consent/content/warnings.py), never an error.
    assert all(" warning [" in line for line in stderr.splitlines())


def test_importing_again_writes_no_audit_event():
    import_pack(MITRACLIP_PATH)

    import_pack(MITRACLIP_PATH)

    assert AuditEvent.objects.filter(action="procedure_version.imported").count() == 1


def test_same_content_with_other_comments_and_spacing_is_unchanged(tmp_path):
    import_pack(MITRACLIP_PATH)
    edited = tmp_path / "mitraclip.en.toml"
    text = MITRACLIP_PATH.read_text(encoding="utf-8")
    edited.write_text("# Checked again, no changes.\n\n" + text.replace(" = ", " =  "), "utf-8")

    stdout, _stderr = import_pack(edited)

    assert "unchanged, already imported" in stdout
    assert ProcedureVersion.objects.count() == 1


def test_the_same_file_given_twice_is_imported_once(tmp_path):
    path = write_pack(tmp_path)

    stdout, _stderr = import_pack(path, path)

    first, second = [line for line in stdout.splitlines() if not line.startswith("  ")]
    assert ProcedureVersion.objects.count() == 1
    assert " 2026.1 imported [sha256 " in first
    assert " 2026.1 unchanged, already imported [sha256 " in second


# Changed content under an existing version


def test_changed_content_under_the_same_version_is_refused(tmp_path):
    import_pack(write_pack(tmp_path))
    changed = valid_pack()
    changed["title"] = "MitraClip: a new title"

    message, _stderr = refused(write_pack(tmp_path, changed, name="changed.toml"))

    assert message == (
        "changed.toml: mitraclip (en) version 2026.1 is already imported with different "
        "content; give the changed pack a new version; nothing was imported."
    )


def test_refused_changed_content_changes_nothing(tmp_path):
    import_pack(write_pack(tmp_path))
    version = ProcedureVersion.objects.get()
    before = row_counts()
    changed = valid_pack()
    changed["sections"][0]["body"] = "A different text."
    changed["questions"].append({**changed["questions"][3], "key": "risk-common-2"})

    refused(write_pack(tmp_path, changed, name="changed.toml"))

    assert row_counts() == before
    version.refresh_from_db()
    assert version.content == valid_pack()
    assert Section.objects.get(key="purpose").body == valid_pack()["sections"][0]["body"]


def test_changed_content_with_a_new_version_is_imported_beside_the_old_one(tmp_path):
    import_pack(write_pack(tmp_path))
    changed = valid_pack()
    changed["version"] = "2026.2"
    changed["title"] = "MitraClip: a new title"

    import_pack(write_pack(tmp_path, changed, name="changed.toml"))

    titles = dict(ProcedureVersion.objects.values_list("version", "title"))
    assert titles == {
        "2026.1": "MitraClip: repairing a leaking mitral valve",
        "2026.2": "MitraClip: a new title",
    }


def test_same_version_in_another_language_is_a_separate_version(tmp_path):
    import_pack(write_pack(tmp_path))
    french = valid_pack()
    french["language"] = "fr"
    french["title"] = "MitraClip : réparer une valve mitrale qui fuit"

    import_pack(write_pack(tmp_path, french, name="mitraclip.fr.toml"))

    assert sorted(ProcedureVersion.objects.values_list("language", flat=True)) == ["en", "fr"]


def test_two_files_with_the_same_version_and_different_content_are_refused(tmp_path):
    first = write_pack(tmp_path, name="a.toml")
    changed = valid_pack()
    changed["title"] = "MitraClip: a new title"
    second = write_pack(tmp_path, changed, name="b.toml")

    message, stderr = refused(first, second)

    assert stderr == (
        "b.toml: mitraclip (en) version 2026.1 has different content from a.toml; "
        "give one of them a new version\n"
    )
    assert message == "1 problem(s) found; nothing was imported."
    assert ProcedureVersion.objects.count() == 0


def test_conflict_in_a_later_pack_leaves_an_earlier_new_pack_unimported(tmp_path):
    import_pack(write_pack(tmp_path))
    before = row_counts()
    new = valid_pack()
    new["slug"] = "tavi"
    changed = valid_pack()
    changed["title"] = "MitraClip: a new title"

    refused(
        write_pack(tmp_path, new, name="tavi.toml"),
        write_pack(tmp_path, changed, name="changed.toml"),
    )

    assert row_counts() == before
    assert not ProcedureVersion.objects.filter(slug="tavi").exists()


# Bad packs


def test_bad_pack_is_refused_with_a_message_naming_file_entry_and_field(tmp_path):
    message, stderr = refused(write_pack(tmp_path, bad_pack()))

    assert stderr == BAD_MESSAGE + "\n"
    assert message == "1 problem(s) found; nothing was imported."


def test_bad_pack_imports_nothing(tmp_path):
    refused(write_pack(tmp_path, bad_pack()))

    assert row_counts() == dict.fromkeys(row_counts(), 0)


def test_every_problem_of_a_bad_pack_is_reported(tmp_path):
    pack = bad_pack()
    pack["risks"][0]["frequency"] = "often"
    pack["alternatives"][0]["descripton"] = "typo"

    message, stderr = refused(write_pack(tmp_path, pack))

    assert stderr.splitlines() == [
        f'{NAME}: alternatives[0] (key "surgery"): unknown field "descripton" '
        '(did you mean "description"?)',
        f'{NAME}: risks[0] (key "bleeding"): field "frequency" "often" is not one of: '
        "most-common, common, uncommon, rare, very-rare",
        BAD_MESSAGE,
    ]
    assert message == "3 problem(s) found; nothing was imported."


def test_good_pack_then_bad_pack_imports_neither(tmp_path):
    good = write_pack(tmp_path, name="good.toml")
    bad = write_pack(tmp_path, bad_pack())

    message, stderr = refused(good, bad)

    assert stderr == BAD_MESSAGE + "\n"
    assert message == "1 problem(s) found; nothing was imported."
    assert row_counts() == dict.fromkeys(row_counts(), 0)


def test_problems_of_every_bad_file_are_reported(tmp_path):
    other = valid_pack()
    other["schema"] = 2

    message, stderr = refused(
        write_pack(tmp_path, bad_pack()), write_pack(tmp_path, other, name="other.toml")
    )

    assert stderr.splitlines() == [
        BAD_MESSAGE,
        'other.toml: field "schema" is 2; this version reads schema 1',
    ]
    assert message == "2 problem(s) found; nothing was imported."


def test_invalid_toml_is_refused_with_its_position(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('schema = 1\nslug = "mitraclip\n', encoding="utf-8")

    _message, stderr = refused(path)

    assert (
        stderr == "broken.toml: is not valid TOML: Illegal character '\\n' (at line 2, column 18)\n"
    )


def test_missing_file_is_refused_with_a_clear_message(tmp_path):
    message, stderr = refused(tmp_path / "nope.en.toml")

    assert stderr == "nope.en.toml: cannot be read (No such file or directory)\n"
    assert message == "1 problem(s) found; nothing was imported."


def test_missing_file_next_to_a_good_one_imports_nothing(tmp_path):
    refused(write_pack(tmp_path), tmp_path / "nope.en.toml")

    assert ProcedureVersion.objects.count() == 0


def test_no_path_at_all_is_a_usage_error():
    with pytest.raises(CommandError, match="the following arguments are required: paths"):
        call_command("import_pack")


# The real command, in its own process, against its own database


def manage_env(database: Path) -> dict[str, str]:
    """The environment for manage.py, pointed at its own SQLite database file."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory) -> Path:
    """A throwaway SQLite database, migrated once by the real `manage.py migrate`."""
    database = tmp_path_factory.mktemp("db") / "migrated.sqlite3"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=settings.BASE_DIR,
        env=manage_env(database),
        check=True,
        capture_output=True,
        timeout=300,
    )
    return database


@pytest.fixture
def command_env(migrated_database, tmp_path) -> tuple[dict[str, str], Path]:
    """A fresh copy of the migrated database for one test, and the environment to use it."""
    database = tmp_path / "import.sqlite3"
    shutil.copy(migrated_database, database)
    return manage_env(database), database


def run_manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (this interpreter, this project's manage.py)
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def stored_versions(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT COUNT(*) FROM consent_procedureversion").fetchone()[0]


def test_command_exits_non_zero_for_a_bad_pack_and_imports_nothing(command_env, tmp_path):
    env, database = command_env
    bad = write_pack(tmp_path, bad_pack())

    result = run_manage(env, "import_pack", str(bad))

    assert result.returncode == 1
    assert BAD_MESSAGE in result.stderr.splitlines()
    assert "CommandError: 1 problem(s) found; nothing was imported." in result.stderr
    assert result.stdout == ""
    assert stored_versions(database) == 0


def test_command_exits_zero_for_a_good_pack(command_env, tmp_path):
    env, database = command_env
    copy = tmp_path / "mitraclip.en.toml"
    shutil.copy(MITRACLIP_PATH, copy)

    result = run_manage(env, "import_pack", str(copy))

    assert result.returncode == 0, result.stderr
    assert "mitraclip (en) version 2026.2 imported" in result.stdout
    assert stored_versions(database) == 1


def test_pack_content_hashes_alike_in_both_canonical_versions():
    """Pack content is strings, integers and booleans (numbers with a fraction are kept as
    written, as text), which RFC 8785 writes exactly as version 1 did: versions imported before
    it keep their hash, and importing the same file again still says "unchanged"."""
    from consent.canonical import canonical_bytes, canonical_bytes_v1

    content = load_pack(MITRACLIP_PATH).content
    assert canonical_bytes(content) == canonical_bytes_v1(content)


def test_pack_text_is_stored_and_hashed_in_nfc(tmp_path):
    """A pack saved by an editor that writes "é" as e + U+0301 imports as the same content, with
    the same hash, as one written with U+00E9."""
    composed = valid_pack()
    composed["title"] = "Réparation de la valve"
    decomposed = valid_pack()
    decomposed["title"] = "Re\u0301paration de la valve"
    assert load_pack(write_pack(tmp_path, decomposed)).content_hash == (
        load_pack(write_pack(tmp_path / "..", composed)).content_hash
    )
    import_pack(write_pack(tmp_path, decomposed))
    assert ProcedureVersion.objects.get().title == "Réparation de la valve"
