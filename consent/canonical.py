"""Canonical JSON: the one serialization that is hashed (records, content packs, the audit chain).

Sorted keys, no spaces, UTF-8 as is: equal data always gives equal bytes. Stored hashes depend on
these exact bytes, so this never changes. No imports beyond the standard library: the audit chain
and the content packs use it without loading the record's renderer.
"""

import json
from typing import Any


def canonical_bytes(value: Any) -> bytes:
    """Serialize plain data (dicts, lists, strings, numbers, booleans, None) to canonical bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )
