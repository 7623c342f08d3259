"""Free text is stored in Unicode Normalization Form C.

The same words can reach us as different code points: "é" typed on one keyboard is U+00E9, on
another "e" followed by U+0301. They look alike and mean the same, but hash differently, and
the canonical form that is hashed (RFC 8785, consent/canonical.py) deliberately leaves strings
as they are. So every string is normalized once, when it is stored: by a `pre_save` receiver
for the app's models and the user accounts whose names records print, and by `audit_record`
before an event is chained (its hash is computed before it is saved).
"""

from typing import Any

from django.db import models

from consent.canonical import nfc

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def text_fields_normalize(instance: models.Model) -> None:
    """Put every text and JSON field of `instance` in NFC, in place."""
    for field in instance._meta.concrete_fields:
        if isinstance(field, TEXT_FIELDS):
            value = getattr(instance, field.attname)
            if value is not None:
                setattr(instance, field.attname, nfc(value))


def normalize_before_save(
    sender: type[models.Model], instance: models.Model, **kwargs: Any
) -> None:
    # Audit events are normalized by `audit_record` before their hash is taken: normalizing
    # after that could break the chain, so they are left alone here.
    if sender._meta.label != "consent.AuditEvent":
        text_fields_normalize(instance)
