"""Webhook secrets: ``whsec_`` + canonical standard base64 of 24..64 key bytes."""

from __future__ import annotations

import base64

import pytest

from wanotify.common.domain.errors import ValidationFailed
from wanotify.common.webhooks.secrets import check_secret, generate_secret


def secret_of(size: int) -> str:
    return "whsec_" + base64.b64encode(bytes(range(size))).decode()


def test_generated_secrets_are_valid_32_byte_keys() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert check_secret(secret) == secret


def test_generated_secrets_are_unique() -> None:
    assert len({generate_secret() for _ in range(200)}) == 200


@pytest.mark.parametrize(("size", "ok"), [(23, False), (24, True), (32, True), (64, True), (65, False)])
def test_key_length_boundaries(size: int, ok: bool) -> None:
    value = secret_of(size)
    if ok:
        assert check_secret(value) == value
    else:
        with pytest.raises(ValidationFailed) as caught:
            check_secret(value)
        assert caught.value.code == "INVALID_WEBHOOK_SECRET"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("whsec_", id="prefix-only"),
        pytest.param(secret_of(32).removeprefix("whsec_"), id="no-prefix"),
        pytest.param("WHSEC_" + secret_of(32).removeprefix("whsec_"), id="prefix-case"),
        pytest.param("sk_" + secret_of(32).removeprefix("whsec_"), id="other-prefix"),
        pytest.param(secret_of(25).rstrip("="), id="padding-missing"),
        pytest.param(secret_of(32) + "==", id="excess-padding"),
        pytest.param(secret_of(32)[:-4] + "*" + secret_of(32)[-3:], id="bad-character"),
        pytest.param(secret_of(32).replace("A", "-").replace("B", "_"), id="urlsafe-alphabet"),
        pytest.param(secret_of(32)[:20] + " " + secret_of(32)[20:], id="space"),
        pytest.param(secret_of(32) + "\n", id="newline"),
        pytest.param(secret_of(32)[:-2] + "é=", id="non-ascii"),
        pytest.param(" " + secret_of(32), id="leading-space"),
    ],
)
def test_malformed_secrets_are_refused(value: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_secret(value)
    assert caught.value.code == "INVALID_WEBHOOK_SECRET"
    assert caught.value.field == "secret"
    assert "whsec_" in caught.value.message
    assert "24 to 64 bytes" in caught.value.message


def test_non_canonical_trailing_bits_are_refused() -> None:
    canonical = secret_of(25)  # 25 bytes: the last base64 group is "xx==" with 4 unused bits
    assert canonical.endswith("==")
    last = canonical[-3]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    sibling = alphabet[alphabet.index(last) + 1]  # same decoded bytes, a non-zero unused bit
    non_canonical = canonical[:-3] + sibling + "=="
    assert base64.b64decode(non_canonical.removeprefix("whsec_")) == bytes(range(25))
    with pytest.raises(ValidationFailed):
        check_secret(non_canonical)


def test_the_field_is_named() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_secret("nope", field="secrets[1]")
    assert caught.value.field == "secrets[1]"
