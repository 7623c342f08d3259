"""Canonical JSON: the one serialization that is hashed (records, content packs, the audit chain).

Version 2 (the current one) is RFC 8785, the JSON Canonicalization Scheme (JCS): keys sorted by
their UTF-16 code units, no whitespace, numbers in ECMAScript's shortest form (`1.0` is `1`),
strings UTF-8 with only the escapes JSON requires. Any JCS implementation, in any language,
computes the same bytes, and so the same SHA-256, for the same data (docs/record-format.md has
test vectors). JCS does not normalize Unicode: free text is NFC-normalized when it is stored
(`nfc`, consent/text.py), so that the same words typed on two keyboards hash alike.

Version 1 (Python's `json.dumps` with sorted keys) made the hashes stored before JCS: records,
signatures, content packs and audit events made then keep verifying with it, and nothing new
is ever made with it. Stored hashes depend on these exact bytes, so neither version changes.
No imports beyond the standard library and `rfc8785`: the audit chain and the content packs use
this without loading the record's renderer.
"""

import json
import unicodedata
from collections.abc import Callable
from typing import Any

import rfc8785

CANONICAL_VERSION = 2


def canonical_bytes(value: Any) -> bytes:
    """Serialize plain data (dicts, lists, strings, numbers, booleans, None) per RFC 8785."""
    return rfc8785.dumps(value)


def canonical_bytes_v1(value: Any) -> bytes:
    """The serialization of version 1, kept only to verify hashes made before version 2."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


# Newest first: verification tries the current form, then the older ones.
SERIALIZERS: dict[int, Callable[[Any], bytes]] = {2: canonical_bytes, 1: canonical_bytes_v1}


def nfc(value: Any) -> Any:
    """`value` with every string in it (keys included) in Unicode Normalization Form C."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(key): nfc(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [nfc(item) for item in value]
    return value
