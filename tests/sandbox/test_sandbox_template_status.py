"""`message_template_status_update` webhooks when a template's status changes through the admin API."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import pytest

from tests.sandbox.harness import APP_SECRET, WABA, Captured, SandboxClient, template_payload, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="session")


def template_status_hooks(sb: SandboxClient) -> list[Captured]:
    return [c for c in sb.capture.delivered() if b"message_template_status_update" in c.body]


async def new_template(sb: SandboxClient, **extra: Any) -> dict[str, Any]:
    name = f"status_{secrets.token_hex(4)}"
    body = {
        "waba_id": WABA,
        "name": name,
        "language": "en_US",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Hi"}],
        **extra,
    }
    response = await sb.http.post("/_sandbox/templates", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_status_change_through_templates_route_emits_webhook(sb: SandboxClient) -> None:
    created = await new_template(sb, status="PENDING")
    assert template_status_hooks(sb) == []  # creating a template is not a change
    changed = await sb.http.post(
        "/_sandbox/templates",
        json={"waba_id": WABA, "name": created["name"], "language": "en_US", "status": "APPROVED",
              "category": "MARKETING", "components": [{"type": "BODY", "text": "Hi"}]},
    )  # fmt: skip
    assert changed.status_code == 201
    assert changed.json()["id"] == created["id"]
    [captured] = await wait_until(lambda: template_status_hooks(sb), what="template status webhook")
    expected = "sha256=" + hmac.new(APP_SECRET.encode(), captured.body, hashlib.sha256).hexdigest()
    assert captured.headers["x-hub-signature-256"] == expected
    payload = captured.json()
    assert payload["object"] == "whatsapp_business_account"
    [entry] = payload["entry"]
    assert entry["id"] == WABA
    assert isinstance(entry["time"], int)
    [change] = entry["changes"]
    assert change["field"] == "message_template_status_update"
    assert change["value"] == {
        "event": "APPROVED",
        "message_template_id": int(created["id"]),
        "message_template_name": created["name"],
        "message_template_language": "en_US",
        "reason": "NONE",
        "message_template_category": "MARKETING",
    }
    log = (await sb.http.get("/_sandbox/webhooks", params={"kind": "template_status"})).json()
    assert [(w["status"], w["http_status"], w["wamid"]) for w in log] == [("APPROVED", 200, None)]
    # Posting the same status again changes nothing and sends nothing.
    await sb.http.post("/_sandbox/templates", json={**changed.json(), "waba_id": WABA})
    assert len((await sb.http.get("/_sandbox/webhooks", params={"kind": "template_status"})).json()) == 1


async def test_status_route_changes_status_with_reason(sb: SandboxClient) -> None:
    created = await new_template(sb)
    to = "+15550800001"
    assert (await sb.send(template_payload(to, created["name"]))).status_code == 200
    response = await sb.http.post(
        "/_sandbox/templates/status",
        json={"waba_id": WABA, "name": created["name"], "language": "en_US", "status": "paused",
              "reason": "LOW_QUALITY"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "PAUSED"
    [captured] = await wait_until(lambda: template_status_hooks(sb), what="template status webhook")
    value = captured.json()["entry"][0]["changes"][0]["value"]
    assert (value["event"], value["reason"]) == ("PAUSED", "LOW_QUALITY")
    # The new status takes effect on sends and in the template list.
    refused = await sb.send(template_payload(to, created["name"]))
    assert refused.json()["error"]["code"] == 132015
    listed = (
        await sb.http.get(
            f"/v25.0/{WABA}/message_templates",
            params={"name": created["name"]},
            headers={"Authorization": "Bearer EAAtest-token-1"},
        )
    ).json()
    assert [t["status"] for t in listed["data"]] == ["PAUSED"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"waba_id": WABA, "name": "no_such_template", "language": "en_US", "status": "APPROVED"}, 404),
        ({"waba_id": WABA, "name": "hello_world", "language": "en_US", "status": "SLEEPY"}, 400),
        ({"waba_id": WABA, "name": "hello_world", "language": "en_US"}, 400),
    ],
)
async def test_status_route_validation(sb: SandboxClient, body: dict[str, Any], status: int) -> None:
    assert (await sb.http.post("/_sandbox/templates/status", json=body)).status_code == status
