"""Unit tests of the sandbox's pure functions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanotify.sandbox.catalog import load_seed, parse_phone_number, parse_template
from wanotify.sandbox.errors import ERROR_TABLE, MetaError, invalid_token, webhook_error
from wanotify.sandbox.ids import new_wamid
from wanotify.sandbox.models import Fault, Template
from wanotify.sandbox.settings import SandboxSettings, load_sandbox_settings
from wanotify.sandbox.signing import encode_webhook, signature
from wanotify.sandbox.state import WINDOW_SECONDS, SandboxState
from wanotify.sandbox.template_check import check_template_request, find_template, placeholders
from wanotify.sandbox.template_listing import decode_cursor, encode_cursor, list_templates
from wanotify.sandbox.validation import normalize_recipient, validate_envelope, validate_free_form

IMAGE_PARAM = {"type": "image", "image": {"id": "1"}}


def code_of(error: pytest.ExceptionInfo[MetaError]) -> int:
    return error.value.code


def template(
    body: str, *, header: str | None = None, parameter_format: str = "POSITIONAL", status: str = "APPROVED"
) -> Template:
    components: list[dict[str, Any]] = []
    if header is not None:
        components.append({"type": "HEADER", "format": "TEXT", "text": header})
    components.append({"type": "BODY", "text": body})
    return Template(
        id="1",
        name="t",
        language="en_US",
        status=status,
        category="UTILITY",
        parameter_format=parameter_format,
        components=components,
    )


def texts(kind: str, *values: str, names: tuple[str, ...] = ()) -> dict[str, Any]:
    params: list[dict[str, Any]] = [{"type": "text", "text": v} for v in values]
    for param, name in zip(params, names, strict=False):
        param["parameter_name"] = name
    return {"type": kind, "parameters": params}


# --- recipients and envelope -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "wa_id"),
    [
        ("+16505551234", "16505551234"),
        ("+1 (650) 555-1234", "16505551234"),
        ("4915123456789", "4915123456789"),
    ],
)
def test_normalize_recipient(to: str, wa_id: str) -> None:
    assert normalize_recipient(to) == wa_id


@pytest.mark.parametrize(
    "to", ["+1650555123a", "123456", "1234567890123456", "+1.650.555.1234", "", "٣٣٣٣٣٣٣٣"]
)
def test_normalize_recipient_refuses(to: str) -> None:
    with pytest.raises(MetaError) as error:
        normalize_recipient(to)
    assert code_of(error) == 131009


@given(st.text(alphabet="0123456789", min_size=7, max_size=15), st.text(alphabet="+-() ", max_size=6))
def test_normalize_recipient_ignores_punctuation(digits: str, noise: str) -> None:
    assert normalize_recipient(noise + digits + noise) == digits


def test_envelope_fields() -> None:
    envelope = validate_envelope(
        {
            "messaging_product": "whatsapp",
            "to": "+1 650 555 1234",
            "type": "text",
            "text": {"body": "x"},
            "biz_opaque_callback_data": "cb",
        }
    )
    assert (envelope.to, envelope.wa_id, envelope.type, envelope.callback_data) == (
        "+1 650 555 1234",
        "16505551234",
        "text",
        "cb",
    )
    assert envelope.content == {"body": "x"}


def test_envelope_checks_in_order() -> None:
    with pytest.raises(MetaError) as error:
        validate_envelope({"to": "x"})
    assert code_of(error) == 100
    with pytest.raises(MetaError) as error:
        validate_envelope({"messaging_product": "whatsapp", "type": "text"})
    assert code_of(error) == 131008
    with pytest.raises(MetaError) as error:
        validate_envelope({"messaging_product": "whatsapp", "to": "16505551234", "type": "text"})
    assert code_of(error) == 131008
    assert error.value.details == "The parameter text is required."


@pytest.mark.parametrize(
    ("message_type", "content", "code"),
    [
        ("text", {"body": ""}, 131008),
        ("text", {"body": "x" * 4097}, 100),
        ("image", {"caption": "x"}, 131008),
        ("image", {"id": 5}, 100),
        ("document", {"link": "https://x.test/a.pdf", "caption": "c" * 1025}, 100),
        ("location", {"latitude": "north", "longitude": 1}, 100),
        ("contacts", [{"name": {}}], 131008),
        ("interactive", {"type": "carousel", "action": {}}, 100),
        ("interactive", {"type": "list", "body": {"text": "x"}, "action": {"button": "Pick"}}, 131008),
        (
            "interactive",
            {
                "type": "button",
                "body": {"text": "x"},
                "action": {"buttons": [{"reply": {"id": str(i), "title": "t"}} for i in range(4)]},
            },
            100,
        ),
        (
            "interactive",
            {
                "type": "button",
                "body": {"text": "x"},
                "action": {"buttons": [{"reply": {"id": "a", "title": "t" * 21}}]},
            },
            100,
        ),
        ("reaction", {"message_id": "wamid.x"}, 131008),
    ],
)  # fmt: skip
def test_free_form_checks(message_type: str, content: Any, code: int) -> None:
    with pytest.raises(MetaError) as error:
        validate_free_form(message_type, content)
    assert code_of(error) == code


def test_free_form_accepts_limits() -> None:
    validate_free_form("text", {"body": "x" * 4096, "preview_url": False})
    validate_free_form("image", {"link": "https://x.test/a.png", "caption": "c" * 1024})
    validate_free_form("audio", {"id": "1"})
    validate_free_form("reaction", {"message_id": "wamid.x", "emoji": ""})


# --- templates ---------------------------------------------------------------------------------


def test_placeholders() -> None:
    assert placeholders("Hi {{1}}, order {{2}}; again {{1}}", "POSITIONAL") == ["1", "2"]
    assert placeholders("Hi {{first_name}} {{ code }}", "NAMED") == ["first_name", "code"]
    assert placeholders("Hi {{first_name}}", "POSITIONAL") == []
    assert placeholders("No params", "NAMED") == []


@pytest.mark.parametrize(("status", "code"), [("PAUSED", 132015), ("DISABLED", 132016), ("REJECTED", 132001)])
def test_find_template_status(status: str, code: int) -> None:
    with pytest.raises(MetaError) as error:
        find_template([template("x", status=status)], "t", "en_US")
    assert code_of(error) == code


def test_find_template_language_is_exact() -> None:
    found = template("x")
    assert find_template([found], "t", "en_US") is found
    with pytest.raises(MetaError) as error:
        find_template([found], "t", "en")
    assert code_of(error) == 132001
    assert error.value.http_status == 404


def test_check_template_fills_positional_params() -> None:
    filled = check_template_request(
        template("Hi {{1}}, you owe {{2}} by {{3}}", header="Order {{1}}"),
        {
            "components": [
                texts("header", "A1"),
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ann"},
                        {
                            "type": "currency",
                            "currency": {"fallback_value": "$5", "code": "USD", "amount_1000": 5000},
                        },
                        {"type": "date_time", "date_time": {"fallback_value": "May 1"}},
                    ],
                },
            ]
        },
    )
    assert filled == "Hi Ann, you owe $5 by May 1"


def test_check_template_named_params_in_any_order() -> None:
    filled = check_template_request(
        template("Hi {{first_name}}, code {{code}}", parameter_format="NAMED"),
        {"components": [texts("body", "42", "Ann", names=("code", "first_name"))]},
    )
    assert filled == "Hi Ann, code 42"


@pytest.mark.parametrize(
    ("components", "code"),
    [
        ([texts("body", "Ann")], 132000),
        ([texts("body", "Ann", "x", "y")], 132000),
        ([texts("body", "Ann", "x"), texts("header", "extra")], 132000),
        ([texts("body", "Ann", "x"), texts("body", "Ann", "x")], 100),
        ([texts("body", "Ann\n", "x")], 100),
        ([texts("body", "Ann", "x\t")], 100),
        ([texts("body", "Ann", "a     b")], 100),
        ([{"type": "body", "parameters": [IMAGE_PARAM, {"type": "text", "text": "x"}]}], 132012),
    ],
)  # fmt: skip
def test_check_template_refusals(components: list[dict[str, Any]], code: int) -> None:
    with pytest.raises(MetaError) as error:
        check_template_request(template("Hi {{1}}, {{2}}"), {"components": components})
    assert code_of(error) == code


def test_check_template_body_limit_counts_filled_text() -> None:
    tpl = template("x" * 1000 + "{{1}}")
    assert len(check_template_request(tpl, {"components": [texts("body", "y" * 24)]})) == 1024
    with pytest.raises(MetaError) as error:
        check_template_request(tpl, {"components": [texts("body", "y" * 25)]})
    assert code_of(error) == 132005


def test_named_template_needs_parameter_names() -> None:
    with pytest.raises(MetaError) as error:
        check_template_request(
            template("Hi {{first_name}}", parameter_format="NAMED"), {"components": [texts("body", "Ann")]}
        )
    assert code_of(error) == 132000


# --- listing -----------------------------------------------------------------------------------


def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor("1234567890")) == "1234567890"
    with pytest.raises(MetaError):
        decode_cursor("%%%")


def test_list_templates_pages() -> None:
    items = [Template(str(i), f"n{i}", "en_US", "APPROVED", "UTILITY", "POSITIONAL", []) for i in range(5)]
    first = list_templates(items, {"limit": "2"}, "http://h/v25.0/w/message_templates")
    assert [t["id"] for t in first["data"]] == ["0", "1"]
    assert first["paging"]["next"] == f"http://h/v25.0/w/message_templates?limit=2&after={encode_cursor('1')}"
    last = list_templates(items, {"limit": "2", "after": encode_cursor("3")}, "http://h/x")
    assert [t["id"] for t in last["data"]] == ["4"]
    assert "next" not in last["paging"]
    assert list_templates(items, {"name": "none"}, "http://h/x") == {"data": []}


# --- errors, signing, ids ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [(190, 401), (100, 400), (132001, 404), (131000, 500), (133004, 503), (131031, 403), (131047, 400)],
)
def test_error_http_status(code: int, status: int) -> None:
    assert ERROR_TABLE[code].http_status == status
    assert MetaError(code).http_status == status


def test_error_body_shape() -> None:
    body = MetaError(130429).body()
    assert body["error"]["message"] == "(#130429) Rate limit hit"
    assert body["error"]["error_data"] == {
        "messaging_product": "whatsapp",
        "details": "Cloud API message throughput has been reached.",
    }
    assert (
        invalid_token().body()["error"]["message"] == "Invalid OAuth access token - Cannot parse access token"
    )
    assert MetaError(424242).http_status == 400


def test_webhook_error_shape() -> None:
    error = webhook_error(131047)
    assert set(error) == {"code", "title", "message", "error_data", "href"}
    assert error["title"] == "Re-engagement message"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_encoded_webhooks_are_ascii_and_round_trip(payload: Any) -> None:
    body = encode_webhook(payload)
    assert body.isascii()
    assert json.loads(body) == payload


def test_signature_is_hmac_of_raw_bytes() -> None:
    body = encode_webhook({"text": "olá ✓"})
    assert body == b'{"text":"ol\\u00e1 \\u2713"}'
    assert signature("secret", body) == "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()


def test_wamid_looks_like_meta() -> None:
    wamid = new_wamid("16505551234")
    assert wamid.startswith("wamid.")
    assert b"16505551234" in base64.b64decode(wamid.removeprefix("wamid."))
    assert new_wamid("16505551234") != wamid


# --- state, catalog, settings ------------------------------------------------------------------


def test_take_fault_counts_uses_and_matches_recipient() -> None:
    state = SandboxState()
    state.add_fault(Fault(wa_id="111", code=131026, times=2))
    state.add_fault(Fault(wa_id=None, code=131000, times=None))
    assert state.take_fault("111") is not None
    assert state.take_fault("111") is not None
    fallback = state.take_fault("111")
    assert fallback is not None
    assert fallback.code == 131000
    assert [f.code for f in state.faults] == [131000]


def test_window() -> None:
    state = SandboxState()
    assert not state.window_open("p", "1", 1000.0)
    state.open_window("p", "1", 1000.0)
    assert state.window_open("p", "1", 1000.0 + WINDOW_SECONDS - 1)
    assert not state.window_open("p", "1", 1000.0 + WINDOW_SECONDS)
    assert not state.window_open("q", "1", 1000.0)


def test_parse_template_defaults_and_errors() -> None:
    waba, parsed = parse_template({"waba_id": 7, "name": "n", "language": "en", "parameter_format": "named"})
    assert waba == "7"
    assert (parsed.status, parsed.category, parsed.parameter_format, parsed.components) == (
        "APPROVED",
        "UTILITY",
        "NAMED",
        [],
    )
    assert parsed.id.isdigit()
    with pytest.raises(ValueError, match="components"):
        parse_template({"waba_id": "1", "name": "n", "language": "en", "components": "x"})
    with pytest.raises(ValueError, match="access_token"):
        parse_phone_number({"phone_number_id": "1", "waba_id": "2", "display_phone_number": "3"})


def test_load_seed(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(
        json.dumps(
            {
                "phone_numbers": [
                    {
                        "phone_number_id": "1",
                        "waba_id": "2",
                        "access_token": "t",
                        "display_phone_number": "+1 555",
                    }
                ],
                "templates": [{"waba_id": "2", "id": "9", "name": "n", "language": "en_US"}],
            }
        )
    )
    seed = load_seed(str(path))
    state = SandboxState()
    state.apply_seed(seed)
    assert state.phone_numbers["1"].access_token == "t"
    assert [t.id for t in state.templates_of("2")] == ["9"]
    path.write_text("[]")
    with pytest.raises(ValueError, match="JSON object"):
        load_seed(str(path))


def test_the_app_secret_never_shows_in_the_settings_repr() -> None:
    settings = load_sandbox_settings({"META_APP_SECRET": "app-secret-value"})
    assert "app-secret-value" not in repr(settings)
    assert settings.app_secret == "app-secret-value"  # and it still signs as the plain string


def test_settings_defaults() -> None:
    settings = load_sandbox_settings({"META_APP_SECRET": "s"})
    assert settings == SandboxSettings(app_secret="s")
    assert (settings.host, settings.port, settings.window_error_mode) == ("127.0.0.1", 8090, "async")
    assert settings.webhook_url == "http://127.0.0.1:8081/webhooks/whatsapp"
    assert (settings.sent_delay_seconds, settings.delivered_delay_seconds, settings.read_delay_seconds) == (
        0.2,
        0.4,
        0.6,
    )
    assert (settings.webhook_max_attempts, settings.webhook_retry_base_seconds) == (6, 0.5)


def test_settings_from_env() -> None:
    settings = load_sandbox_settings(
        {
            "SANDBOX_HOST": "0.0.0.0",
            "SANDBOX_PORT": "9000",
            "META_APP_SECRET": "s",
            "SANDBOX_WEBHOOK_URL": "http://x/hook",
            "SANDBOX_SENT_DELAY_SECONDS": "1",
            "SANDBOX_DELIVERED_DELAY_SECONDS": "2",
            "SANDBOX_READ_DELAY_SECONDS": "3.5",
            "SANDBOX_WEBHOOK_MAX_ATTEMPTS": "2",
            "SANDBOX_WINDOW_ERROR_MODE": "SYNC",
            "SANDBOX_SEED_FILE": "/tmp/seed.json",
        }
    )
    assert settings == SandboxSettings(
        host="0.0.0.0",
        port=9000,
        app_secret="s",
        webhook_url="http://x/hook",
        sent_delay_seconds=1.0,
        delivered_delay_seconds=2.0,
        read_delay_seconds=3.5,
        webhook_max_attempts=2,
        window_error_mode="sync",
        seed_file="/tmp/seed.json",
    )
    assert load_sandbox_settings({"SANDBOX_WEBHOOK_URL": ""}).webhook_url == ""


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"META_APP_SECRET": "s", "SANDBOX_PORT": "http"},
        {"META_APP_SECRET": "s", "SANDBOX_WINDOW_ERROR_MODE": "maybe"},
        {"META_APP_SECRET": "s", "SANDBOX_READ_DELAY_SECONDS": "-1"},
        {"META_APP_SECRET": "s", "SANDBOX_WEBHOOK_MAX_ATTEMPTS": "0"},
    ],
)
def test_settings_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"SANDBOX_|META_APP_SECRET"):
        load_sandbox_settings(env)
