"""Secrets at rest: AES-256-GCM envelopes."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanotify.common.crypto import SecretBox, SecretBoxError, generate_key

KEY = generate_key()
CONTEXT = b"106540352242922"


def test_round_trip() -> None:
    box = SecretBox(KEY)
    blob = box.encrypt("EAAtoken", context=CONTEXT)
    assert isinstance(blob, bytes)
    assert b"EAAtoken" not in blob
    assert box.decrypt(blob, context=CONTEXT) == "EAAtoken"


@given(st.text(), st.binary(max_size=64))
def test_round_trip_any_text(plaintext: str, context: bytes) -> None:
    box = SecretBox(KEY)
    assert box.decrypt(box.encrypt(plaintext, context=context), context=context) == plaintext


def test_fresh_nonce_each_time() -> None:
    box = SecretBox(KEY)
    assert box.encrypt("same", context=CONTEXT) != box.encrypt("same", context=CONTEXT)


def test_another_instance_with_the_same_key_decrypts() -> None:
    assert SecretBox(KEY).decrypt(SecretBox(KEY).encrypt("x", context=CONTEXT), context=CONTEXT) == "x"


def test_wrong_key() -> None:
    blob = SecretBox(KEY).encrypt("EAAtoken", context=CONTEXT)
    with pytest.raises(SecretBoxError):
        SecretBox(generate_key()).decrypt(blob, context=CONTEXT)


def test_wrong_context() -> None:
    box = SecretBox(KEY)
    blob = box.encrypt("EAAtoken", context=CONTEXT)
    with pytest.raises(SecretBoxError):
        box.decrypt(blob, context=b"another-phone-number-id")
    with pytest.raises(SecretBoxError):
        box.decrypt(blob)


@pytest.mark.parametrize("position", [0, 1, 12, 13, -1])
def test_tampered_blob(position: int) -> None:
    box = SecretBox(KEY)
    blob = bytearray(box.encrypt("EAAtoken", context=CONTEXT))
    blob[position] ^= 0x01
    with pytest.raises(SecretBoxError):
        box.decrypt(bytes(blob), context=CONTEXT)


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + bytes(27), b"\x02" + bytes(40)])
def test_truncated_or_foreign_blob(blob: bytes) -> None:
    with pytest.raises(SecretBoxError):
        SecretBox(KEY).decrypt(blob)


def test_truncated_real_blob() -> None:
    box = SecretBox(KEY)
    blob = box.encrypt("EAAtoken", context=CONTEXT)
    with pytest.raises(SecretBoxError):
        box.decrypt(blob[:-1], context=CONTEXT)


@pytest.mark.parametrize("size", [0, 16, 24, 31, 33, 64])
def test_bad_key_sizes(size: int) -> None:
    with pytest.raises(SecretBoxError):
        SecretBox(base64.b64encode(os.urandom(size)).decode())


@pytest.mark.parametrize(
    "key", ["not base64!", "@@@@", KEY[:-2] + "*="], ids=["punctuation", "symbols", "bad-padding"]
)
def test_non_base64_key(key: str) -> None:
    with pytest.raises(SecretBoxError):
        SecretBox(key)


def test_generated_keys_are_32_random_bytes() -> None:
    a, b = generate_key(), generate_key()
    assert len(base64.b64decode(a)) == 32
    assert a != b
    SecretBox(a)
