"""Where the records' files live: local folders, or an S3-compatible object store.

Two application servers must see the same files: a record finalized on one is downloaded
from the other. With `CONSENT_S3_BUCKET` set, settings.py puts two storages on S3 through
django-storages (`storages.backends.s3.S3Storage`):

- "default": the records' and the addenda's PDFs (`ConsentRecord.pdf`, `Addendum.pdf`,
  FileFields: every read and write goes through the storage, never through a path), under
  the prefix `CONSENT_S3_MEDIA_PREFIX` ("media");
- "checkpoints": the sealed audit checkpoints (consent/audit/checkpoint.py), in
  `CONSENT_S3_CHECKPOINT_BUCKET` (default: the same bucket) under `CONSENT_S3_CHECKPOINT_PREFIX`
  ("audit-checkpoints"). The checkpoints anchor the audit chain against someone who rewrites
  the database, so they must stay a separate location: a prefix inside the media prefix (or the
  same one) is refused, and a separate bucket with its own credentials and retention is better.

Nothing is ever overwritten (`file_overwrite` off: a name already taken gets a suffix), and no
URL to a stored object is ever given out: downloads stream through the application, which
checks access and writes the audit event first.

Without `CONSENT_S3_BUCKET` both stay local folders (MEDIA_ROOT and AUDIT_CHECKPOINT_ROOT).

`storage_probe` is the health check's question to a storage: can it be reached now?
`removed_on_failure` removes a file stored for a row whose transaction then fails.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

S3_BACKEND = "storages.backends.s3.S3Storage"
# How long the health check and every request wait for the object store before giving up
# (seconds; botocore's defaults are 60 s and more retries: a load balancer's probe would hang).
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 60
MAX_ATTEMPTS = 3


def _prefix(value: str) -> str:
    return value.strip().strip("/")


def _nested(one: str, other: str) -> bool:
    """Whether one prefix holds the other (or they are the same): "" holds everything."""
    one, other = one + "/", other + "/"
    return one == "/" or other == "/" or one.startswith(other) or other.startswith(one)


def s3_storages(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """STORAGES entries for the object store named in `environ`, or {} when none is set.

    CONSENT_S3_BUCKET (enables it), CONSENT_S3_ENDPOINT_URL (any S3-compatible server; path
    style addressing then), CONSENT_S3_REGION, CONSENT_S3_ACCESS_KEY_ID and
    CONSENT_S3_SECRET_ACCESS_KEY (else boto3's own chain: AWS_* variables, an instance role),
    CONSENT_S3_MEDIA_PREFIX, CONSENT_S3_CHECKPOINT_BUCKET, CONSENT_S3_CHECKPOINT_PREFIX,
    CONSENT_S3_SERVER_SIDE_ENCRYPTION (e.g. AES256 or aws:kms), CONSENT_S3_ADDRESSING_STYLE.
    """
    bucket = environ.get("CONSENT_S3_BUCKET", "").strip()
    if not bucket:
        return {}
    from botocore.config import Config

    endpoint = environ.get("CONSENT_S3_ENDPOINT_URL", "").strip() or None
    common: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region_name": environ.get("CONSENT_S3_REGION", "").strip() or None,
        "addressing_style": environ.get("CONSENT_S3_ADDRESSING_STYLE", "").strip()
        or ("path" if endpoint else None),
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
        "client_config": Config(
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        ),
    }
    access_key = environ.get("CONSENT_S3_ACCESS_KEY_ID", "").strip()
    secret_key = environ.get("CONSENT_S3_SECRET_ACCESS_KEY", "").strip()
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured(
            "Set both CONSENT_S3_ACCESS_KEY_ID and CONSENT_S3_SECRET_ACCESS_KEY, or neither "
            "(boto3's own credentials are used then)."
        )
    if access_key:
        common.update(access_key=access_key, secret_key=secret_key)
    encryption = environ.get("CONSENT_S3_SERVER_SIDE_ENCRYPTION", "").strip()
    if encryption:
        common["object_parameters"] = {"ServerSideEncryption": encryption}

    media_prefix = _prefix(environ.get("CONSENT_S3_MEDIA_PREFIX", "media"))
    checkpoint_bucket = environ.get("CONSENT_S3_CHECKPOINT_BUCKET", "").strip() or bucket
    checkpoint_prefix = _prefix(environ.get("CONSENT_S3_CHECKPOINT_PREFIX", "audit-checkpoints"))
    if checkpoint_bucket == bucket and _nested(media_prefix, checkpoint_prefix):
        raise ImproperlyConfigured(
            "The audit checkpoints must be stored apart from the records: "
            f"CONSENT_S3_CHECKPOINT_PREFIX ({checkpoint_prefix!r}) and CONSENT_S3_MEDIA_PREFIX "
            f"({media_prefix!r}) overlap in bucket {bucket!r}. Use two prefixes side by side, "
            "or better CONSENT_S3_CHECKPOINT_BUCKET."
        )
    return {
        "default": {
            "BACKEND": S3_BACKEND,
            "OPTIONS": {**common, "bucket_name": bucket, "location": media_prefix},
        },
        "checkpoints": {
            "BACKEND": S3_BACKEND,
            "OPTIONS": {
                **common,
                "bucket_name": checkpoint_bucket,
                "location": checkpoint_prefix,
            },
        },
    }


def storage_probe(storage: Any) -> None:
    """Raise if `storage` cannot be reached now; cheap enough for a load balancer's probe.

    An S3 storage lists at most one key under its own prefix (credentials, bucket and network
    all checked; it needs only s3:ListBucket on that prefix); a folder must exist (it is made,
    as the first save would) and be writable; any other backend is asked whether a name exists.
    Nothing is written and nothing is read from any record.
    """
    from django.core.files.storage import FileSystemStorage

    connection = getattr(storage, "connection", None)
    if connection is not None and hasattr(storage, "bucket_name"):
        location = _prefix(getattr(storage, "location", ""))
        connection.meta.client.list_objects_v2(
            Bucket=storage.bucket_name, Prefix=f"{location}/" if location else "", MaxKeys=1
        )
        return
    if isinstance(storage, FileSystemStorage):
        folder = Path(storage.location)
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError("storage folder not writable")
        return
    storage.exists(".healthz")


@contextmanager
def removed_on_failure(stored: Any) -> Iterator[None]:
    """Remove `stored` (a FieldFile just saved) when the block raises: the transaction that
    would have pointed a row at it rolls back, and no orphan file is left behind."""
    try:
        yield
    except BaseException:
        if stored.name:
            stored.storage.delete(stored.name)
        raise
