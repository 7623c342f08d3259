"""Fuzzing the content editors' forms: an uploaded pack (the MitraClip pack cut, altered or
extended, or any bytes at all), the publish form, and an answer in the preview. No input gets a
server error; the draft page of whatever was uploaded shows; a refused input says why and
stores nothing; a publish form sent twice publishes once."""

import os

import pytest
from hypothesis import strategies as st

from consent.models import PackDraft
from consent.services.authoring import pack_draft_upload
from tests.factories import ORIGIN
from tests.fuzz.harness import either, fuzz
from tests.fuzz.strategies import BOOLEAN_TEXT, SHORT, TEXT, post_to, staff, values
from tests.workbench import changed_pack, content_editor

pytestmark = pytest.mark.django_db

PACK = changed_pack().encode()


def test_pack_upload(record_property):
    upload = st.one_of(
        st.just(PACK),
        st.integers(0, len(PACK)).map(lambda n: PACK[:n]),
        st.tuples(st.integers(0, len(PACK) - 1), st.integers(0, 255)).map(
            lambda t: PACK[: t[0]] + bytes([t[1]]) + PACK[t[0] + 1 :]
        ),
        st.tuples(st.integers(0, len(PACK)), st.text(max_size=40)).map(
            lambda t: PACK[: t[0]] + t[1].encode("utf-8", "surrogatepass") + PACK[t[0] :]
        ),
        st.binary(max_size=300),
    )
    names = st.one_of(st.just("mitraclip.en.toml"), SHORT).filter(
        lambda name: os.path.basename(name) not in ("", ".", "..")
    )

    def send(client, value):
        from django.core.files.uploadedfile import SimpleUploadedFile

        data, name = value
        # The draft's page, whatever the file held: its errors with their lines, or none.
        return client.post("/authoring/", {"file": SimpleUploadedFile(name, data)}, follow=True)

    fuzz(
        name="content editor: pack upload",
        client=staff(content_editor()),
        strategy=st.tuples(upload, names),
        send=send,
        record_property=record_property,
        may_add=("PackDraft",),
        # Each upload is a draft of its own, as uploaded.
        replay=False,
    )


def test_publish(record_property):
    editor = content_editor()
    draft = pack_draft_upload(data=PACK, file_name="mitraclip.en.toml", user=editor, origin=ORIGIN)
    valid = {"publish_key": str(draft.publish_key), "unreviewed": "on"}
    strategy = either(
        valid,
        {
            "publish_key": values(st.one_of(st.just(str(draft.publish_key)), SHORT)),
            "unreviewed": values(BOOLEAN_TEXT),
        },
    )
    fuzz(
        name="content editor: publish",
        client=staff(editor),
        strategy=strategy,
        send=post_to(f"/authoring/drafts/{draft.pk}/publish/"),
        record_property=record_property,
        may_add=("ProcedureVersion", "PackDraft"),
    )
    assert PackDraft.objects.filter(status=PackDraft.Status.DRAFT).count() == 1


def test_preview_answer(record_property):
    editor = content_editor()
    draft = pack_draft_upload(data=PACK, file_name="mitraclip.en.toml", user=editor, origin=ORIGIN)
    strategy = either(
        {"round": "1", "answer": "true"},
        {"round": values(SHORT), "answer": values(st.one_of(BOOLEAN_TEXT, TEXT))},
    )
    for number in (1, 17):  # a choice question with a variant, and a true-false one
        fuzz(
            name=f"content editor: preview answer (question {number})",
            client=staff(editor),
            strategy=strategy,
            send=post_to(f"/authoring/drafts/{draft.pk}/preview/en/question/{number}/"),
            record_property=record_property,
            may_add=(),
        )
