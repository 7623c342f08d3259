"""Reads for the content editors' workbench: the drafts, and what a draft holds.

A draft is kept as its uploaded bytes; everything shown about it is worked out from them here:
its problems with their lines, the parser's warnings, the readability report, the version it
would replace and what that version's content is. Nothing here writes.
"""

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db.models import QuerySet

from consent.authoring.changes import Comparison, pack_compare
from consent.authoring.lines import LocatedProblem, problems_located
from consent.content.importing import translation_problems
from consent.content.packs import Pack, PackError, parse_pack
from consent.content.readability import Report, pack_report
from consent.content.warnings import pack_warnings
from consent.models import PackDraft, ProcedureVersion


@dataclass
class DraftAnalysis:
    """One draft, read: its pack (None while it does not follow the format), its problems (a
    translation's mismatches with its source, for a pack that follows the format) and warnings,
    each with its line."""

    draft: PackDraft
    text: str
    pack: Pack | None
    problems: list[LocatedProblem]
    warnings: list[LocatedProblem]

    @property
    def valid(self) -> bool:
        return self.pack is not None

    @property
    def content(self) -> dict[str, Any]:
        return self.pack.content if self.pack is not None else {}

    @property
    def reviewed(self) -> bool:
        return bool(self.content.get("reviewed_by"))

    @cached_property
    def same_identity(self) -> ProcedureVersion | None:
        """The version already imported under this slug, language and version, if any."""
        if self.pack is None:
            return None
        slug, language, version = self.pack.identity
        return ProcedureVersion.objects.filter(
            slug=slug, language=language, version=version
        ).first()

    @property
    def conflict(self) -> bool:
        """Same slug, language and version as an imported version, different content."""
        existing = self.same_identity
        return (
            existing is not None
            and self.pack is not None
            and (existing.content_hash != self.pack.content_hash)
        )

    @property
    def already_published(self) -> bool:
        existing = self.same_identity
        return (
            existing is not None
            and self.pack is not None
            and (existing.content_hash == self.pack.content_hash)
        )

    @cached_property
    def replaces(self) -> ProcedureVersion | None:
        """The newest imported version of the same procedure and language, other content."""
        if self.pack is None:
            return None
        return (
            ProcedureVersion.objects.filter(
                slug=self.content["slug"], language=self.content["language"]
            )
            .exclude(content_hash=self.pack.content_hash)
            .order_by("-imported_at", "-pk")
            .first()
        )

    @cached_property
    def comparison(self) -> Comparison | None:
        if self.replaces is None:
            return None
        return pack_compare(self.replaces.content, self.content)

    @cached_property
    def readability(self) -> Report | None:
        if self.pack is None:
            return None
        return pack_report(self.content, source=self.draft.file_name)

    @cached_property
    def other_languages(self) -> dict[str, ProcedureVersion]:
        """The newest imported version of this procedure in each other language, by language
        (for the language a translation translates: its source version)."""
        if self.pack is None:
            return {}
        newest: dict[str, ProcedureVersion] = {}
        versions = ProcedureVersion.objects.filter(slug=self.content["slug"]).exclude(
            language=self.content["language"]
        )
        source = self.pack.source_identity
        for version in versions.order_by("language", "-imported_at", "-pk"):
            # A translation is shown beside the very version it translates.
            if source is not None and version.language == source[1]:
                if version.version == source[2]:
                    newest[version.language] = version
                continue
            newest.setdefault(version.language, version)
        return newest

    def preview_source(self, language: str) -> dict[str, Any] | None:
        """The content previewed in `language`: the draft's own, or another language's newest
        imported version of the same procedure; None for a language it has not."""
        if self.pack is None:
            return None
        if language == self.content["language"]:
            return self.content
        other = self.other_languages.get(language)
        return other.content if other is not None else None

    @property
    def languages(self) -> list[str]:
        if self.pack is None:
            return []
        return [self.content["language"], *sorted(self.other_languages)]


def pack_text(data: bytes) -> str:
    """The uploaded bytes as text, for showing lines (undecodable bytes shown replaced)."""
    return data.decode("utf-8-sig", errors="replace")


def draft_analysis(*, draft: PackDraft) -> DraftAnalysis:
    data = bytes(draft.data)
    text = pack_text(data)
    try:
        pack = parse_pack(data, source_name=draft.file_name)
    except PackError as error:
        problems = problems_located(text, error.messages, source_name=draft.file_name)
        return DraftAnalysis(draft=draft, text=text, pack=None, problems=problems, warnings=[])
    # A translation that does not match its source (or whose source is not imported) is
    # refused by the importer: its problems are errors too, though its pages can be previewed.
    problems = problems_located(text, translation_problems([pack]), source_name=draft.file_name)
    warnings = problems_located(text, pack_warnings(pack), source_name=draft.file_name)
    return DraftAnalysis(draft=draft, text=text, pack=pack, problems=problems, warnings=warnings)


def drafts_list() -> QuerySet[PackDraft]:
    """The drafts, newest first, with who uploaded and what each published."""
    return PackDraft.objects.select_related("uploaded_by", "published_version").defer("data")


def draft_or_none(*, draft_id: int) -> PackDraft | None:
    return (
        PackDraft.objects.select_related("uploaded_by", "published_version")
        .filter(pk=draft_id)
        .first()
    )
