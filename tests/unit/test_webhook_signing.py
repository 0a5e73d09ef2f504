"""Client webhook signatures: Standard Webhooks (checked with the official library) and the seed scheme."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from wanotify.common.domain.errors import ValidationFailed
from wanotify.common.webhooks.secrets import generate_secret
from wanotify.common.webhooks.signing import (
    SEED_SIGNATURE_HEADER,
    seed_header,
    seed_signature,
    standard_headers,
    standard_signature,
    verify_seed,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER = "whsec_" + base64.b64encode(b"another key of 24 bytes!").decode()
BODY = b'{"type":"notification.sent","data":{"id":"ntf_1"}}'
MSG_ID = "evt_2Zx8d4"
TS = 1_700_000_000


def seed_hex(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_standard_signature_matches_the_spec_by_hand() -> None:
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"{MSG_ID}.{TS}.".encode() + BODY, hashlib.sha256).digest()
    assert standard_signature(SECRET, MSG_ID, TS, BODY) == "v1," + base64.b64encode(digest).decode()


def test_standard_headers_verify_with_the_official_library() -> None:
    now = int(time.time())
    headers = standard_headers([SECRET], MSG_ID, now, BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == MSG_ID
    assert headers["webhook-timestamp"] == str(now)
    assert Webhook(SECRET).verify(BODY, headers) == {"type": "notification.sent", "data": {"id": "ntf_1"}}


def test_rotation_signs_with_both_secrets_and_each_alone_verifies() -> None:
    now = int(time.time())
    headers = standard_headers([SECRET, OTHER], MSG_ID, now, BODY)
    first, second = headers["webhook-signature"].split(" ")
    assert first == standard_signature(SECRET, MSG_ID, now, BODY)
    assert second == standard_signature(OTHER, MSG_ID, now, BODY)
    Webhook(SECRET).verify(BODY, headers)
    Webhook(OTHER).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_generated_secret_verifies() -> None:
    secret = generate_secret()
    now = int(time.time())
    Webhook(secret).verify(BODY, standard_headers([secret], MSG_ID, now, BODY))


@pytest.mark.parametrize(
    ("body", "changes"),
    [
        pytest.param(BODY + b" ", {}, id="body"),
        pytest.param(BODY, {"webhook-id": "evt_other"}, id="id"),
    ],
)
def test_standard_tampering_fails(body: bytes, changes: dict[str, str]) -> None:
    now = int(time.time())
    headers = standard_headers([SECRET], MSG_ID, now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, {**headers, **changes})


def test_standard_tampered_timestamp_fails() -> None:
    now = int(time.time())
    headers = standard_headers([SECRET], MSG_ID, now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY, {**headers, "webhook-timestamp": str(now + 1)})


def test_standard_headers_need_a_secret() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        standard_headers([], MSG_ID, TS, BODY)


@pytest.mark.parametrize("secret", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_not*base64"])
def test_standard_signature_refuses_a_malformed_secret(secret: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        standard_signature(secret, MSG_ID, TS, BODY)
    assert caught.value.code == "INVALID_WEBHOOK_SECRET"


def test_seed_signature_matches_an_independent_implementation() -> None:
    assert seed_signature(SECRET, TS, BODY) == f"t={TS},v1={seed_hex(SECRET, TS, BODY)}"
    assert SEED_SIGNATURE_HEADER == "X-Webhook-Signature"


def test_seed_key_is_the_whole_secret_string() -> None:
    key_only = SECRET.removeprefix("whsec_")
    assert seed_signature(SECRET, TS, BODY) != f"t={TS},v1={seed_hex(key_only, TS, BODY)}"


def test_seed_header_with_two_secrets() -> None:
    header = seed_header([SECRET, OTHER], TS, BODY)
    assert header == f"t={TS},v1={seed_hex(SECRET, TS, BODY)},v1={seed_hex(OTHER, TS, BODY)}"
    assert seed_header([SECRET], TS, BODY) == seed_signature(SECRET, TS, BODY)
    assert verify_seed(SECRET, header, BODY, now=TS)
    assert verify_seed(OTHER, header, BODY, now=TS)
    assert not verify_seed(generate_secret(), header, BODY, now=TS)


def test_seed_header_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        seed_header([], TS, BODY)


def test_verify_seed_round_trip_and_tampering() -> None:
    header = seed_signature(SECRET, TS, BODY)
    assert verify_seed(SECRET, header, BODY, now=TS)
    assert not verify_seed(SECRET, header, BODY + b" ", now=TS)
    assert not verify_seed(OTHER, header, BODY, now=TS)
    forged_time = header.replace(f"t={TS}", f"t={TS + 1}")
    assert not verify_seed(SECRET, forged_time, BODY, now=TS)


@pytest.mark.parametrize(
    ("now", "ok"),
    [(TS, True), (TS + 300, True), (TS - 300, True), (TS + 301, False), (TS - 301, False)],
)
def test_verify_seed_tolerance(now: int, ok: bool) -> None:
    assert verify_seed(SECRET, seed_signature(SECRET, TS, BODY), BODY, now=now) is ok


def test_verify_seed_custom_tolerance() -> None:
    header = seed_signature(SECRET, TS, BODY)
    assert verify_seed(SECRET, header, BODY, now=TS + 10, tolerance=10)
    assert not verify_seed(SECRET, header, BODY, now=TS + 11, tolerance=10)


def test_verify_seed_accepts_spaces_and_ignores_unknown_schemes() -> None:
    digest = seed_hex(SECRET, TS, BODY)
    assert verify_seed(SECRET, f"t={TS}, v0=abc, v1={digest}", BODY, now=TS)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=,v1=abc",
        f"t={TS}",
        "v1={digest}",
        f"t={TS},v1=",
        f"t={TS},v1={{digest}},t={TS}",
        f"t=-{TS},v1={{digest}}",
        f"t={TS}.5,v1={{digest}}",
        f"t=0x{TS:x},v1={{digest}}",
        f"t={TS};v1={{digest}}",
        f"t={TS},v1{{digest}}",
        f"t={TS},v1={{digest}}é",
        f"t={TS},v1={{digest}}\x00",
        f"t={TS},sha256={{digest}}",
        "t=１７,v1={digest}",
    ],
)
def test_verify_seed_malformed_headers_are_false(header: str | None) -> None:
    digest = seed_hex(SECRET, TS, BODY)
    filled = header.replace("{digest}", digest) if header is not None else None
    assert not verify_seed(SECRET, filled, BODY, now=TS)


def test_verify_seed_empty_secret_is_false() -> None:
    assert not verify_seed("", seed_signature("", TS, BODY), BODY, now=TS)
