"""A procedure version's content, read from the database once per process.

A procedure version is immutable (an imported content pack, identified by the SHA-256 of its
content): its pack JSON, sections, questions and risks never change once imported. The patient
pages and the staff pages need them on every request; building those rows is most of what a
page used to cost, so each process keeps them, keyed by the version's id and content hash.

Safe because:
- a version's rows are never updated (`ProcedureVersion` is immutable by design; the import
  only ever creates), and its content hash names its content;
- a new version or content row saved anywhere in this process empties the cache, so an id that
  comes back after a rolled-back or deleted import (SQLite reuses row ids) is never served
  from an earlier import's rows;
- the rows are shared between requests and must be read only: nothing in the app writes to a
  section, question or risk after the import.

The cache holds at most `MAX_VERSIONS` versions (a few hundred kilobytes each).
"""

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models.signals import post_delete, post_save

from consent.models import ProcedureVersion, Question, Risk, Section

MAX_VERSIONS = 32


@dataclass
class VersionContent:
    """What a version's pages show, loaded once: the pack's JSON and its rows, in order."""

    content: dict[str, Any]
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


_cache: "OrderedDict[tuple[int, str], VersionContent]" = OrderedDict()
_lock = threading.Lock()


def version_content(version: ProcedureVersion) -> VersionContent:
    """The version's content and rows; read from the database only the first time.

    `version` may have its `content` field deferred: it is read here once, not per request.
    """
    key = (version.pk, version.content_hash)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    loaded = _load(version)
    with _lock:
        _cache[key] = loaded
        while len(_cache) > MAX_VERSIONS:
            _cache.popitem(last=False)
    return loaded


def _load(version: ProcedureVersion) -> VersionContent:
    if "content" in version.get_deferred_fields():
        content = ProcedureVersion.objects.values_list("content", flat=True).get(pk=version.pk)
    else:
        content = version.content
    sections = tuple(Section.objects.filter(version_id=version.pk))
    by_id = {section.pk: section for section in sections}
    questions = tuple(Question.objects.filter(version_id=version.pk))
    for question in questions:
        question.section = by_id[question.section_id]
    risks = tuple(Risk.objects.filter(version_id=version.pk))
    return VersionContent(content=content, sections=sections, questions=questions, risks=risks)


def with_content(version: ProcedureVersion) -> ProcedureVersion:
    """The version with its `content` filled from the cache when the query deferred it."""
    if "content" in version.get_deferred_fields():
        version.content = version_content(version).content
    return version


def content_cache_clear(**_kwargs: Any) -> None:
    with _lock:
        _cache.clear()


for _model in (ProcedureVersion, Section, Question, Risk):
    post_save.connect(content_cache_clear, sender=_model, dispatch_uid=f"content-cache-{_model}")
    post_delete.connect(content_cache_clear, sender=_model, dispatch_uid=f"content-del-{_model}")
