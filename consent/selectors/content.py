"""A procedure version's content, read from the database once per process.

A procedure version is immutable (an imported content pack, identified by the SHA-256 of its
content): its pack JSON, sections, questions and risks never change once imported. The patient
pages and the staff pages need them on every request; building those rows is most of what a
page used to cost, so each process keeps them, keyed by the version's id.

Safe because:
- a version's rows are never updated (`ProcedureVersion` is immutable by design; the import
  only ever creates), and its content hash names its content; a version row rewritten behind
  the application's back (a review claimed in its columns) is no more believed from the cache
  than from the database: `clinically_reviewed` checks the columns against the hashed content;
- a new version or content row saved anywhere in this process empties the cache, so an id that
  comes back after a rolled-back or deleted import (SQLite reuses row ids; PostgreSQL never
  does) is never served from an earlier import's rows;
- the rows are shared between requests and must be read only: nothing in the app writes to a
  section, question or risk after the import.

The cache holds at most `MAX_VERSIONS` versions (a few hundred kilobytes each).
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models.signals import post_delete, post_save

from consent.models import ConsentSession, ProcedureVersion, Question, Risk, Section

MAX_VERSIONS = 32


@dataclass
class VersionContent:
    """What a version's pages show, loaded once: the version, its pack JSON and rows, in order."""

    version: ProcedureVersion
    sections: tuple[Section, ...]
    # Each question's `section` is the one in `sections` (no query to reach it).
    questions: tuple[Question, ...]
    risks: tuple[Risk, ...]
    # Anything derived from the content alone (risk pictures by language...), by key.
    derived: dict[Any, Any] = field(default_factory=dict)

    def derive(self, key: Any, build: Callable[[], Any]) -> Any:
        """A value computed from this content alone, built once per process."""
        if key not in self.derived:
            self.derived[key] = build()
        return self.derived[key]

    @property
    def content(self) -> dict[str, Any]:
        return self.version.content


_cache: "OrderedDict[int, VersionContent]" = OrderedDict()
_lock = threading.Lock()


def version_content(version_id: int) -> VersionContent:
    """The version and its content rows; read from the database only the first time."""
    with _lock:
        found = _cache.get(version_id)
        if found is not None:
            _cache.move_to_end(version_id)
            return found
    loaded = _load(version_id)
    with _lock:
        _cache[version_id] = loaded
        while len(_cache) > MAX_VERSIONS:
            _cache.popitem(last=False)
    return loaded


def _load(version_id: int) -> VersionContent:
    version = ProcedureVersion.objects.get(pk=version_id)
    sections = tuple(Section.objects.filter(version_id=version_id))
    by_id = {section.pk: section for section in sections}
    questions = tuple(Question.objects.filter(version_id=version_id))
    for question in questions:
        question.section = by_id[question.section_id]
    risks = tuple(Risk.objects.filter(version_id=version_id))
    return VersionContent(version=version, sections=sections, questions=questions, risks=risks)


def with_cached_versions(sessions: Iterable[ConsentSession]) -> list[ConsentSession]:
    """The sessions, each with its procedure version from the cache: a list of sessions shows
    the version (and whether it is clinically reviewed, which reads the pack JSON) without
    reading and decoding the pack once per row."""
    listed = list(sessions)
    for session in listed:
        session.procedure_version = version_content(session.procedure_version_id).version
    return listed


def content_cache_clear(**_kwargs: Any) -> None:
    with _lock:
        _cache.clear()


for _model in (ProcedureVersion, Section, Question, Risk):
    post_save.connect(content_cache_clear, sender=_model, dispatch_uid=f"content-cache-{_model}")
    post_delete.connect(content_cache_clear, sender=_model, dispatch_uid=f"content-del-{_model}")
