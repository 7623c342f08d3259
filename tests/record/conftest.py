"""Fixtures of the record tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.record.ca import TimestampServer


@pytest.fixture
def timestamp_authority(tmp_path: Path) -> Iterator[tuple[str, list[bytes], Path]]:
    """An RFC 3161 responder on a free local port: its URL, the requests it got, and the path
    of its certificate (for SEAL_TSA_TRUSTED_CERTS)."""
    server = TimestampServer()
    yield server.url, server.requests_seen, server.certificate_pem(tmp_path / "tsa.pem")
    server.stop()
