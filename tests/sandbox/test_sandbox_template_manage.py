"""Template create and delete through the Graph API, and the optional auto-review."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import StartSandbox
from tests.sandbox.harness import (
    TOKEN,
    TOKEN_OTHER_WABA,
    VERSION,
    WABA,
    CaptureServer,
    RunningServer,
    SandboxClient,
    wait_until,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PATH = f"/{VERSION}/{WABA}/message_templates"


def new_body(**extra: Any) -> dict[str, Any]:
    return {
        "name": f"created_{secrets.token_hex(4)}",
        "language": "en_US",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hi {{1}}"}],
        **extra,
    }


async def listed(http: httpx.AsyncClient, name: str) -> list[dict[str, Any]]:
    response = await http.get(PATH, params={"name": name}, headers=AUTH)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return [t for t in data if t["name"] == name]


async def test_create_is_pending_and_listed(sb: SandboxClient) -> None:
    body = new_body(parameter_format="positional")
    response = await sb.http.post(PATH, json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    created = response.json()
    assert set(created) == {"id", "status", "category"}
    assert (created["status"], created["category"]) == ("PENDING", "UTILITY")
    assert created["id"].isdigit()
    [template] = await listed(sb.http, body["name"])
    assert (template["id"], template["status"], template["language"]) == (created["id"], "PENDING", "en_US")
    assert template["parameter_format"] == "POSITIONAL"
    assert template["components"] == body["components"]
    # A PENDING template cannot be sent yet.
    send = await sb.send(
        {"messaging_product": "whatsapp", "to": "+15550900001", "type": "template",
         "template": {"name": body["name"], "language": {"code": "en_US"},
                      "components": [{"type": "body", "parameters": [{"type": "text", "text": "x"}]}]}}
    )  # fmt: skip
    assert send.status_code != 200


async def test_duplicate_name_and_language_refused_other_language_accepted(sb: SandboxClient) -> None:
    body = new_body()
    assert (await sb.http.post(PATH, json=body, headers=AUTH)).status_code == 200
    again = await sb.http.post(PATH, json=body, headers=AUTH)
    assert again.status_code == 400
    error = again.json()["error"]
    assert error["code"] == 100
    assert body["name"] in error["error_data"]["details"]
    assert "already exists" in error["error_data"]["details"]
    other = await sb.http.post(PATH, json={**body, "language": "pt_BR"}, headers=AUTH)
    assert other.status_code == 200, other.text
    assert len(await listed(sb.http, body["name"])) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Has_Upper"},
        {"name": "has-dash"},
        {"name": "has space"},
        {"name": "a" * 513},
        {"name": ""},
        {"language": None},
        {"category": "SPAM"},
        {"category": None},
        {"components": []},
        {"components": "BODY"},
        {"parameter_format": "WEIRD"},
    ],
)
async def test_invalid_create_refused_with_100(sb: SandboxClient, change: dict[str, Any]) -> None:
    body = {k: v for k, v in {**new_body(), **change}.items() if v is not None}
    response = await sb.http.post(PATH, json=body, headers=AUTH)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == 100


async def test_name_of_512_allowed(sb: SandboxClient) -> None:
    response = await sb.http.post(PATH, json=new_body(name="a" * 500 + secrets.token_hex(6)), headers=AUTH)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": f"Bearer {TOKEN_OTHER_WABA}"}]
)
async def test_create_and_delete_need_the_waba_token(sb: SandboxClient, headers: dict[str, str]) -> None:
    created = await sb.http.post(PATH, json=new_body(), headers=headers)
    assert created.status_code == 401
    assert created.json()["error"]["code"] == 190
    deleted = await sb.http.delete(PATH, params={"name": "hello_world"}, headers=headers)
    assert deleted.status_code == 401
    assert deleted.json()["error"]["code"] == 190
    assert len(await listed(sb.http, "hello_world")) == 1


async def test_not_json_refused(sb: SandboxClient) -> None:
    response = await sb.http.post(
        PATH, content=b"{nope", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


async def test_delete_by_name_removes_every_language(sb: SandboxClient) -> None:
    body = new_body()
    for language in ("en_US", "es_ES"):
        assert (
            await sb.http.post(PATH, json={**body, "language": language}, headers=AUTH)
        ).status_code == 200
    response = await sb.http.delete(PATH, params={"name": body["name"]}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    assert await listed(sb.http, body["name"]) == []
    again = await sb.http.delete(PATH, params={"name": body["name"]}, headers=AUTH)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == 100


async def test_delete_by_hsm_id_removes_one(sb: SandboxClient) -> None:
    body = new_body()
    first = (await sb.http.post(PATH, json=body, headers=AUTH)).json()
    second = (await sb.http.post(PATH, json={**body, "language": "fr_FR"}, headers=AUTH)).json()
    response = await sb.http.delete(PATH, params={"name": body["name"], "hsm_id": first["id"]}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    assert [t["id"] for t in await listed(sb.http, body["name"])] == [second["id"]]
    alone = await sb.http.delete(PATH, params={"hsm_id": second["id"]}, headers=AUTH)
    assert alone.json() == {"success": True}
    assert await listed(sb.http, body["name"]) == []


async def test_delete_without_name_or_unknown_refused(sb: SandboxClient) -> None:
    missing = await sb.http.delete(PATH, headers=AUTH)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == 100
    unknown = await sb.http.delete(PATH, params={"hsm_id": "1"}, headers=AUTH)
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == 100


async def test_stays_pending_without_review_knob(sb: SandboxClient) -> None:
    body = new_body()
    assert (await sb.http.post(PATH, json=body, headers=AUTH)).status_code == 200
    # Another request round trip; nothing may have moved it out of PENDING.
    [template] = await listed(sb.http, body["name"])
    assert template["status"] == "PENDING"
    assert not [c for c in sb.capture.delivered() if b"message_template_status_update" in c.body]


async def test_auto_review_approves_and_emits_webhook(
    start_sandbox: StartSandbox, capture: tuple[CaptureServer, RunningServer]
) -> None:
    target, _ = capture
    server = await start_sandbox(template_review_seconds=0.05)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        body = new_body(category="MARKETING")
        created = (await http.post(PATH, json=body, headers=AUTH)).json()
        assert created["status"] == "PENDING"

        def hook() -> list[dict[str, Any]]:
            values = [c.json()["entry"][0]["changes"][0]["value"] for c in target.delivered()
                      if b"message_template_status_update" in c.body]  # fmt: skip
            return [v for v in values if v["message_template_name"] == body["name"]]

        [value] = await wait_until(hook, what="template approval webhook")
        assert value == {
            "event": "APPROVED",
            "message_template_id": int(created["id"]),
            "message_template_name": body["name"],
            "message_template_language": "en_US",
            "reason": "NONE",
            "message_template_category": "MARKETING",
        }
        [template] = await listed(http, body["name"])
        assert template["status"] == "APPROVED"
