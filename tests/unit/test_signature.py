"""``X-Hub-Signature-256`` over the raw body bytes (reference §5.2)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanotify.common.meta.signature import sign, verify

SECRET = "app-secret-123"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def test_sign_is_hmac_sha256_hex_with_prefix() -> None:
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY) == f"sha256={expected}"


@given(st.text(min_size=1), st.binary())
def test_round_trip(secret: str, body: bytes) -> None:
    assert verify(secret, body, sign(secret, body))


def test_wrong_secret() -> None:
    assert not verify(SECRET, BODY, sign("another-secret", BODY))


def test_tampered_body() -> None:
    header = sign(SECRET, BODY)
    assert not verify(SECRET, BODY.replace(b"[]", b"[{}]"), header)
    assert not verify(SECRET, BODY + b" ", header)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header(header: str | None) -> None:
    assert not verify(SECRET, BODY, header)


def test_wrong_prefix() -> None:
    digest = sign(SECRET, BODY).removeprefix("sha256=")
    assert not verify(SECRET, BODY, digest)
    assert not verify(SECRET, BODY, f"sha1={digest}")
    assert not verify(SECRET, BODY, f"SHA256={digest}x")
    sha1 = hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    assert not verify(SECRET, BODY, f"sha1={sha1}")


def test_truncated_digest() -> None:
    assert not verify(SECRET, BODY, sign(SECRET, BODY)[:-1])


def test_empty_secret_refuses_everything() -> None:
    assert not verify("", BODY, sign("", BODY))
    assert not verify("", b"", sign("", b""))
    assert not verify("", BODY, sign(SECRET, BODY))


def test_escaped_unicode_bytes_verify_but_a_reserialized_body_does_not() -> None:
    document = {"entry": [{"changes": [{"value": {"contacts": [{"profile": {"name": "José Müller 🙂"}}]}}]}]}
    raw = json.dumps(document, separators=(",", ":")).encode()  # ensure_ascii: \uXXXX escapes
    assert b"\\u00e9" in raw
    header = sign(SECRET, raw)
    assert verify(SECRET, raw, header)

    reserialized = json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":")).encode()
    assert json.loads(reserialized) == json.loads(raw)
    assert not verify(SECRET, reserialized, header)
