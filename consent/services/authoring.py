"""The content editors' workbench: upload a pack as a draft, preview it, publish it.

A draft is never live: only `pack_draft_publish` imports it, through the importer
(consent/content/importing.py, all or nothing), with its audit event in the same
transaction. Every step is an audit event: `pack.uploaded`, `pack.previewed`,
`pack.published`.
"""

import hashlib
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from consent.audit.events import Origin, audit_record
from consent.content.importing import pack_import
from consent.content.packs import PackError, parse_pack
from consent.models import PackDraft, ProcedureVersion
from consent.roles import role_of
from consent.services import ServiceError

# A pack is text: the largest shipped one is about 60 KB.
MAX_PACK_BYTES = 512 * 1024
FILE_NAME_MAX = PackDraft._meta.get_field("file_name").max_length or 200

ERROR_HAS_PROBLEMS = _(
    "This pack has errors, so it cannot be published. Fix them and upload the file again."
)
ERROR_STALE_FORM = _("This form is out of date. Open the draft again and publish from there.")
ERROR_SAME_CONTENT = _(
    "This exact content is already published as version %(version)s: there is nothing new to "
    "publish."
)
ERROR_UNREVIEWED = _(
    "This pack names no clinical reviewer. Tick the box to publish it as “not clinically "
    "reviewed”, or add reviewed_by and reviewed_on to the pack and upload it again."
)


@dataclass(frozen=True)
class PublishResult:
    version: ProcedureVersion
    # True when the same form was sent again: nothing more was published.
    replayed: bool


def _file_name(name: str) -> str:
    """The uploaded file's own name, without any folder a browser may send."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "pack.toml"
    return base[-FILE_NAME_MAX:]


def pack_draft_upload(*, data: bytes, file_name: str, user: User, origin: Origin) -> PackDraft:
    """Keep an uploaded pack as a draft, whatever it holds (its errors are shown, not refused)."""
    name = _file_name(file_name)
    digest = hashlib.sha256(data).hexdigest()
    try:
        pack = parse_pack(data, source_name=name)
        summary: dict[str, object] = {
            "valid": True,
            "slug": pack.content["slug"],
            "language": pack.content["language"],
            "version": pack.content["version"],
        }
    except PackError as error:
        summary = {"valid": False, "problems": len(error.messages)}
    with transaction.atomic():
        draft = PackDraft.objects.create(file_name=name, data=data, sha256=digest, uploaded_by=user)
        audit_record(
            action="pack.uploaded",
            role=role_of(user),
            origin=origin,
            actor=user,
            obj=draft,
            payload={"file": name, "sha256": digest, "bytes": len(data), **summary},
        )
    return draft


def pack_draft_previewed(
    *, draft: PackDraft, language: str, page: str, user: User, origin: Origin
) -> None:
    """Note that an editor looked at a page of a draft's preview."""
    with transaction.atomic():
        audit_record(
            action="pack.previewed",
            role=role_of(user),
            origin=origin,
            actor=user,
            obj=draft,
            payload={"sha256": draft.sha256, "language": language, "page": page},
        )


def pack_draft_publish(
    *,
    draft_id: int,
    publish_key: uuid.UUID,
    unreviewed_acknowledged: bool,
    user: User,
    origin: Origin,
) -> PublishResult:
    """Import a draft as a procedure version, once, with its `pack.published` event.

    The form's one-time key must be the draft's: the same form sent twice publishes once (the
    second gets the first's version back, `replayed`). A pack without a clinical reviewer is
    published only when the editor says it is published as not clinically reviewed. The
    importer refuses a version already imported with other content (`PackConflict`): then
    nothing is stored.
    """
    with transaction.atomic():
        draft = PackDraft.objects.select_for_update().get(pk=draft_id)
        if draft.publish_key != publish_key:
            raise ServiceError(ERROR_STALE_FORM)
        if draft.status == PackDraft.Status.PUBLISHED and draft.published_version is not None:
            return PublishResult(version=draft.published_version, replayed=True)
        try:
            pack = parse_pack(bytes(draft.data), source_name=draft.file_name)
        except PackError as error:
            raise ServiceError(ERROR_HAS_PROBLEMS) from error
        reviewed = bool(pack.content.get("reviewed_by"))
        if not reviewed and not unreviewed_acknowledged:
            raise ServiceError(ERROR_UNREVIEWED)
        result = pack_import(packs=[pack])[0]
        version = result.version
        if not result.created:
            raise ServiceError(ERROR_SAME_CONTENT % {"version": version.version})
        draft.status = PackDraft.Status.PUBLISHED
        draft.published_version = version
        draft.published_by = user
        draft.published_at = version.imported_at
        draft.published_unreviewed = not reviewed
        draft.save(
            update_fields=[
                "status",
                "published_version",
                "published_by",
                "published_at",
                "published_unreviewed",
            ]
        )
        audit_record(
            action="pack.published",
            role=role_of(user),
            origin=origin,
            actor=user,
            obj=version,
            payload={
                "draft": draft.pk,
                "slug": version.slug,
                "language": version.language,
                "version": version.version,
                "hash": version.content_hash,
                "file_sha256": draft.sha256,
                "reviewed": version.clinically_reviewed,
            },
        )
    return PublishResult(version=version, replayed=False)
