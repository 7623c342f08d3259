"""Generated inputs for the patient's and the staff's forms: junk, near misses and valid ones."""

import base64
from collections.abc import Callable
from typing import Any

from django.test import Client
from hypothesis import strategies as st

from consent.models import ConsentSession
from tests.factories import logged_in, patient_client, signature_png
from tests.fuzz.harness import INTEGER_TEXT, NASTY, SHORT, TEXT

PNG = signature_png()
# The PNG cut right after its image data (the IEND chunk missing): with WeasyPrint's
# process-wide LOAD_TRUNCATED_IMAGES, Pillow's verify() raised IndexError on it.
PNG_CUT_AFTER_DATA = PNG[: PNG.index(b"IEND") - 4]


def _flip(data: bytes, at: int, byte: int) -> bytes:
    at %= len(data)
    return data[:at] + bytes([byte]) + data[at + 1 :]


PNG_BYTES = st.one_of(
    st.just(PNG),
    st.just(PNG_CUT_AFTER_DATA),
    st.integers(0, len(PNG)).map(lambda n: PNG[:n]),
    st.tuples(st.integers(0, len(PNG) - 1), st.integers(0, 255)).map(lambda t: _flip(PNG, *t)),
    st.binary(max_size=64).map(lambda tail: PNG + tail),
    st.binary(max_size=300),
)


def _data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


SIGNATURE = st.one_of(
    PNG_BYTES.map(_data_url),
    PNG_BYTES.map(lambda data: _data_url(data, "image/jpeg")),
    st.text(max_size=50).map(lambda text: "data:image/png;base64," + text),
    TEXT,
)
BOOLEAN_TEXT = st.sampled_from(["on", "true", "false", "0", "1", "", "\x00"])


def values(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """A single posted value or several values under one name."""
    return st.one_of(strategy, st.lists(strategy, max_size=4))


def patient(session: ConsentSession) -> Client:
    client = patient_client(session, Client(raise_request_exception=False))
    return client


def staff(user: Any) -> Client:
    client = logged_in(user)
    client.raise_request_exception = False
    return client


def post_to(url: str) -> Callable[[Client, dict[str, Any]], Any]:
    def send(client: Client, data: dict[str, Any]) -> Any:
        return client.post(url, data)

    return send


__all__ = ["INTEGER_TEXT", "NASTY", "SHORT", "TEXT"]
