"""The send endpoint over real HTTP: auth, envelope checks, per-type checks and the success shape."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.sandbox.harness import (
    PNID,
    PNID_OTHER_WABA,
    TOKEN,
    TOKEN_2,
    SandboxClient,
    template_payload,
    text_payload,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


def error_of(response: Any, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert isinstance(error["error_data"]["details"], str)
    assert error["error_data"]["details"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{10,}", error["fbtrace_id"])
    return error


async def test_missing_token_is_401_with_meta_body(sb: SandboxClient) -> None:
    response = await sb.send(text_payload("+15550101001"), token=None)
    error = error_of(response, 401, 190)
    assert error["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert set(response.json()) == {"error"}
    assert set(error) == {"message", "type", "code", "error_data", "fbtrace_id"}


async def test_wrong_token_is_401(sb: SandboxClient) -> None:
    error_of(await sb.send(text_payload("+15550101002"), token="EAAnot-a-token"), 401, 190)


async def test_token_of_another_number_is_401(sb: SandboxClient) -> None:
    error_of(await sb.send(text_payload("+15550101003"), token=TOKEN_2), 401, 190)


async def test_non_bearer_authorization_is_401(sb: SandboxClient) -> None:
    response = await sb.http.post(
        f"/v25.0/{PNID}/messages",
        json=text_payload("+15550101004"),
        headers={"Authorization": f"Basic {TOKEN}"},
    )
    error_of(response, 401, 190)


async def test_unknown_phone_number_id_is_400_code_100(sb: SandboxClient) -> None:
    error = error_of(await sb.send(text_payload("+15550101005"), phone_number_id="999"), 400, 100)
    assert error["message"] == "(#100) Invalid parameter"
    assert "999" in error["error_data"]["details"]


async def test_any_version_is_accepted_but_not_garbage(sb: SandboxClient) -> None:
    await sb.inbound("+15550101006")
    for version in ("v19.0", "v25.0", "v26.0"):
        response = await sb.send(text_payload("+15550101006"), version=version)
        assert response.status_code == 200, response.text
    error_of(await sb.send(text_payload("+15550101006"), version="latest"), 400, 100)


TO = "+15550102001"
BASE: dict[str, Any] = {"messaging_product": "whatsapp", "to": TO}
TEXT: dict[str, Any] = {**BASE, "type": "text", "text": {"body": "x"}}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        pytest.param({"to": TO, "type": "text", "text": {"body": "x"}}, 100, id="no-product"),
        pytest.param({**TEXT, "messaging_product": "sms"}, 100, id="wrong-product"),
        pytest.param({k: v for k, v in TEXT.items() if k != "to"}, 131008, id="no-to"),
        pytest.param({k: v for k, v in TEXT.items() if k != "type"}, 131008, id="no-type"),
        pytest.param({**BASE, "type": "fax", "fax": {}}, 100, id="unsupported-type"),
        pytest.param({**BASE, "type": "text"}, 131008, id="no-type-object"),
        pytest.param({**BASE, "type": "text", "text": "x"}, 100, id="type-object-not-object"),
        pytest.param({**TEXT, "to": "+1555-ABC-2001"}, 131009, id="to-letters"),
        pytest.param({**TEXT, "to": "+12345"}, 131009, id="to-too-short"),
        pytest.param({**TEXT, "to": "+1234567890123456"}, 131009, id="to-too-long"),
        pytest.param({**TEXT, "to": 15550102001}, 100, id="to-not-string"),
        pytest.param({**TEXT, "recipient_type": "broadcast"}, 100, id="recipient-type"),
        pytest.param({**TEXT, "biz_opaque_callback_data": "x" * 513}, 100, id="callback-data-too-long"),
        pytest.param({**BASE, "type": "text", "text": {}}, 131008, id="text-no-body"),
        pytest.param({**BASE, "type": "text", "text": {"body": "x" * 4097}}, 100, id="text-too-long"),
        pytest.param(
            {**BASE, "type": "text", "text": {"body": "x", "preview_url": "yes"}}, 100, id="preview-url"
        ),
        pytest.param({**BASE, "type": "image", "image": {}}, 131008, id="image-no-link-or-id"),
        pytest.param(
            {**BASE, "type": "image", "image": {"link": "https://cdn.test/a.png", "caption": "c" * 1025}},
            100,
            id="caption-too-long",
        ),
        pytest.param(
            {**BASE, "type": "video", "video": {"link": "ftp://x/y"}}, 131009, id="media-link-scheme"
        ),
        pytest.param({**BASE, "type": "location", "location": {}}, 131008, id="location-no-coordinates"),
        pytest.param({**BASE, "type": "contacts", "contacts": []}, 100, id="contacts-empty"),
        pytest.param(
            {**BASE, "type": "interactive", "interactive": {"type": "button", "body": {"text": "pick"}}},
            131008,
            id="interactive-no-action",
        ),
        pytest.param({**BASE, "type": "reaction", "reaction": {}}, 131008, id="reaction-no-message-id"),
        pytest.param({**BASE, "type": "template", "template": {}}, 131008, id="template-no-name"),
        pytest.param(
            {**BASE, "type": "template", "template": {"name": "hello_world"}},
            131008,
            id="template-no-language",
        ),
    ],
)
async def test_envelope_and_type_errors(sb: SandboxClient, payload: dict[str, Any], code: int) -> None:
    error_of(await sb.send(payload), 400, code)


async def test_malformed_json_is_400_code_100(sb: SandboxClient) -> None:
    error_of(await sb.send(b'{"messaging_product": "whatsapp",'), 400, 100)
    error_of(await sb.send(b"[1, 2]"), 400, 100)


async def test_sending_to_own_number_is_refused(sb: SandboxClient) -> None:
    payload = template_payload("+1 555 000 0001", "hello_world")
    error_of(await sb.send(payload), 400, 131021)


async def test_template_success_shape(sb: SandboxClient) -> None:
    to = "+1 (555) 010-3001"
    response = await sb.send(template_payload(to, "hello_world"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"messaging_product", "contacts", "messages"}
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": to, "wa_id": "15550103001"}]
    [message] = body["messages"]
    assert message["message_status"] == "accepted"
    assert re.fullmatch(r"wamid\.[A-Za-z0-9+/=]{20,}", message["id"])


async def test_free_form_success_has_no_message_status_and_ids_are_unique(sb: SandboxClient) -> None:
    await sb.inbound("+15550103002")
    kinds: list[dict[str, Any]] = [
        {"type": "text", "text": {"body": "hi", "preview_url": True}},
        {"type": "image", "image": {"link": "https://cdn.test/a.png", "caption": "pic"}},
        {"type": "document", "document": {"link": "https://cdn.test/a.pdf", "filename": "a.pdf"}},
        {"type": "video", "video": {"link": "https://cdn.test/v.mp4"}},
        {"type": "audio", "audio": {"link": "https://cdn.test/a.ogg"}},
        {"type": "sticker", "sticker": {"link": "https://cdn.test/s.webp"}},
        {"type": "location", "location": {"latitude": 52.5, "longitude": 13.4, "name": "Berlin"}},
        {"type": "contacts", "contacts": [{"name": {"formatted_name": "Ann Lee", "first_name": "Ann"}}]},
        {"type": "interactive", "interactive": {
            "type": "button", "body": {"text": "Pick one"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Yes"}}]}}},
        {"type": "reaction", "reaction": {"message_id": "wamid.ABC", "emoji": "\U0001f44d"}},
    ]  # fmt: skip
    ids = set()
    for kind in kinds:
        response = await sb.send({"messaging_product": "whatsapp", "to": "15550103002", **kind})
        assert response.status_code == 200, (kind, response.text)
        [message] = response.json()["messages"]
        assert set(message) == {"id"}
        ids.add(message["id"])
    assert len(ids) == len(kinds)


async def test_messages_log_records_requests_and_refusals(sb: SandboxClient) -> None:
    ok = await sb.send(template_payload("+15550104001", "hello_world"))
    bad = await sb.send({"messaging_product": "whatsapp", "to": "+15550104001", "type": "text"})
    assert bad.status_code == 400
    await sb.send(text_payload("+15550104001"), phone_number_id=PNID_OTHER_WABA, token="nope")

    logged = (await sb.http.get("/_sandbox/messages", params={"to": "+1 555 010 4001"})).json()
    assert [(m["type"], m["error_code"], m["outcome"]) for m in logged] == [
        ("template", None, "accepted"),
        ("text", 131008, "refused"),
    ]
    assert logged[0]["id"] == ok.json()["messages"][0]["id"]
    assert logged[0]["phone_number_id"] == PNID
    assert logged[0]["request"]["template"]["name"] == "hello_world"
    assert logged[1]["id"] is None
    assert isinstance(logged[0]["received_at"], float)

    other = (await sb.http.get("/_sandbox/messages", params={"phone_number_id": PNID_OTHER_WABA})).json()
    assert [(m["error_code"], m["http_status"]) for m in other] == [(190, 401)]


async def test_probe_and_health(sb: SandboxClient) -> None:
    assert (await sb.http.get("/")).status_code == 200
    health = await sb.http.get("/_sandbox/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
