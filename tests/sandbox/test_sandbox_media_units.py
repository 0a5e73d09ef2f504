"""The media MIME/size table and the bounded store."""

from __future__ import annotations

import pytest

from tests.sandbox.harness import PNID
from wanotify.sandbox.errors import MetaError
from wanotify.sandbox.media import MEDIA_TYPES, MediaStore, check_upload

MB = 1024 * 1024


def test_limit_table_and_check() -> None:
    assert {kind.kind for kind in MEDIA_TYPES.values()} == {"image", "video", "audio", "document", "sticker"}
    assert MEDIA_TYPES["application/pdf"].max_bytes == 100 * MB
    assert check_upload("IMAGE/PNG; x=y", 1) == "image/png"
    with pytest.raises(MetaError) as raised:
        check_upload("application/pdf", 100 * MB + 1)
    assert raised.value.code == 131053


def test_store_is_bounded() -> None:
    store = MediaStore(max_bytes=10)
    first = store.add(PNID, "image/png", b"12345")
    second = store.add(PNID, "image/png", b"12345")
    third = store.add(PNID, "image/png", b"123")
    assert store.get(first.id) is None
    assert store.get(second.id) is not None
    assert store.get(third.id) is not None
    assert store.total_bytes == 8
    assert store.remove(second.id)
    assert not store.remove(second.id)
    assert store.total_bytes == 3


def test_new_settings_from_env() -> None:
    from wanotify.sandbox.settings import load_sandbox_settings

    defaults = load_sandbox_settings({"SANDBOX_WEBHOOK_URL": ""})
    assert defaults.template_review_seconds is None
    assert defaults.strict_media_ids is True  # like Meta: an id must have been uploaded
    assert defaults.media_max_bytes == 256 * MB
    env = {
        "SANDBOX_WEBHOOK_URL": "",
        "SANDBOX_TEMPLATE_REVIEW_SECONDS": "0",
        "SANDBOX_STRICT_MEDIA_IDS": "false",
        "SANDBOX_MEDIA_MAX_BYTES": "1000",
    }
    settings = load_sandbox_settings(env)
    assert (settings.template_review_seconds, settings.strict_media_ids, settings.media_max_bytes) == (
        0.0,
        False,
        1000,
    )
    with pytest.raises(ValueError, match="SANDBOX_TEMPLATE_REVIEW_SECONDS"):
        load_sandbox_settings({**env, "SANDBOX_TEMPLATE_REVIEW_SECONDS": "-1"})
