"""Template sends checked against the WABA's templates, and the template list with paging."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.sandbox.harness import (
    LONG_PREFIX,
    PNID_OTHER_WABA,
    TOKEN,
    TOKEN_2,
    TOKEN_OTHER_WABA,
    TOKEN_PAGING,
    WABA,
    WABA_PAGING,
    SandboxClient,
    body_params,
    template_payload,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

TO = "+15550201001"
WHITESPACE_DETAILS = "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"


def order_update(header: list[str], body: list[str]) -> list[dict[str, Any]]:
    return [
        {"type": "header", "parameters": [{"type": "text", "text": v} for v in header]},
        *body_params(*body),
    ]


async def expect_error(sb: SandboxClient, payload: dict[str, Any], status: int, code: int) -> dict[str, Any]:
    response = await sb.send(payload)
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"].startswith(f"(#{code}) ")
    return error


async def expect_accepted(sb: SandboxClient, payload: dict[str, Any]) -> str:
    response = await sb.send(payload)
    assert response.status_code == 200, response.text
    [message] = response.json()["messages"]
    assert message["message_status"] == "accepted"
    wamid: str = message["id"]
    return wamid


async def test_unknown_template_is_404_132001(sb: SandboxClient) -> None:
    error = await expect_error(sb, template_payload(TO, "no_such_template"), 404, 132001)
    assert error["message"] == "(#132001) Template name does not exist in the translation"
    assert error["error_data"]["details"] == "template name (no_such_template) does not exist in en_US"


async def test_template_in_wrong_language_is_132001(sb: SandboxClient) -> None:
    components = order_update(["A1"], ["Ann", "A1", "today"])
    await expect_error(
        sb, template_payload(TO, "order_update", language="de", components=components), 404, 132001
    )
    await expect_error(
        sb, template_payload(TO, "order_update", language="en", components=components), 404, 132001
    )
    await expect_accepted(
        sb, template_payload(TO, "order_update", language="pt_BR", components=body_params("Ana"))
    )


async def test_template_of_another_waba_is_not_found(sb: SandboxClient) -> None:
    await expect_error(sb, template_payload(TO, "other_waba_only"), 404, 132001)
    response = await sb.send(
        template_payload(TO, "other_waba_only"), phone_number_id=PNID_OTHER_WABA, token=TOKEN_OTHER_WABA
    )
    assert response.status_code == 200, response.text


async def test_paused_disabled_and_pending_templates(sb: SandboxClient) -> None:
    await expect_error(sb, template_payload(TO, "paused_tpl"), 400, 132015)
    await expect_error(sb, template_payload(TO, "disabled_tpl"), 400, 132016)
    await expect_error(sb, template_payload(TO, "pending_tpl"), 404, 132001)


async def test_template_status_change_through_admin_takes_effect(sb: SandboxClient) -> None:
    template = {
        "waba_id": WABA,
        "name": "flip_flop",
        "language": "en_US",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Flip"}],
    }
    created = await sb.http.post("/_sandbox/templates", json=template)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "APPROVED"
    await expect_accepted(sb, template_payload(TO, "flip_flop"))
    paused = await sb.http.post("/_sandbox/templates", json={**template, "status": "PAUSED"})
    assert paused.json()["id"] == created.json()["id"]
    await expect_error(sb, template_payload(TO, "flip_flop"), 400, 132015)


@pytest.mark.parametrize(
    "components",
    [
        pytest.param(None, id="no-components"),
        pytest.param(order_update(["A1"], ["Ann", "A1"]), id="body-too-few"),
        pytest.param(order_update(["A1"], ["Ann", "A1", "today", "extra"]), id="body-too-many"),
        pytest.param(body_params("Ann", "A1", "today"), id="header-missing"),
        pytest.param(order_update(["A1", "B2"], ["Ann", "A1", "today"]), id="header-too-many"),
    ],
)
async def test_positional_parameter_count(sb: SandboxClient, components: list[dict[str, Any]] | None) -> None:
    error = await expect_error(sb, template_payload(TO, "order_update", components=components), 400, 132000)
    assert "does not match the expected number of params" in error["error_data"]["details"]


async def test_positional_parameters_accepted_with_rich_types(sb: SandboxClient) -> None:
    components = [
        {"type": "HEADER", "parameters": [{"type": "text", "text": "SB-1001"}]},
        {
            "type": "BODY",
            "parameters": [
                {"type": "text", "text": "Jessica"},
                {
                    "type": "currency",
                    "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990},
                },
                {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977"}},
            ],
        },
    ]
    await expect_accepted(sb, template_payload(TO, "order_update", components=components))


async def test_parameters_for_a_template_without_placeholders_are_refused(sb: SandboxClient) -> None:
    await expect_error(sb, template_payload(TO, "hello_world", components=body_params("x")), 400, 132000)


async def test_named_parameters(sb: SandboxClient) -> None:
    def named(*pairs: tuple[str | None, str]) -> list[dict[str, Any]]:
        params: list[dict[str, Any]] = []
        for name, value in pairs:
            param: dict[str, Any] = {"type": "text", "text": value}
            if name is not None:
                param["parameter_name"] = name
            params.append(param)
        return [{"type": "body", "parameters": params}]

    ok = named(("code", "4242"), ("first_name", "Ann"))
    await expect_accepted(sb, template_payload(TO, "welcome_named", components=ok))
    for bad in (
        named((None, "Ann"), (None, "4242")),
        named(("first_name", "Ann"), ("coupon", "4242")),
        named(("first_name", "Ann"), ("first_name", "4242")),
        named(("first_name", "Ann")),
    ):
        await expect_error(sb, template_payload(TO, "welcome_named", components=bad), 400, 132000)


@pytest.mark.parametrize("text", ["line\nbreak", "tab\there", "five     spaces"])
async def test_whitespace_rule_for_text_params(sb: SandboxClient, text: str) -> None:
    error = await expect_error(
        sb,
        template_payload(TO, "order_update", components=order_update(["A1"], [text, "A1", "today"])),
        400,
        100,
    )
    assert error["error_data"]["details"] == WHITESPACE_DETAILS
    header_error = await expect_error(
        sb,
        template_payload(TO, "order_update", components=order_update([text], ["Ann", "A1", "x"])),
        400,
        100,
    )
    assert header_error["error_data"]["details"] == WHITESPACE_DETAILS


async def test_four_spaces_are_allowed(sb: SandboxClient) -> None:
    components = order_update(["A1"], ["four    spaces", "A1", "today"])
    await expect_accepted(sb, template_payload(TO, "order_update", components=components))


async def test_filled_body_over_1024_chars_is_132005(sb: SandboxClient) -> None:
    # The template is LONG_PREFIX + " {{1}}": 1001 characters plus the parameter.
    fits = "x" * (1024 - len(LONG_PREFIX) - 1)
    await expect_accepted(sb, template_payload(TO, "long_body", components=body_params(fits)))
    error = await expect_error(
        sb, template_payload(TO, "long_body", components=body_params(fits + "x")), 400, 132005
    )
    assert error["message"] == "(#132005) Translated text too long"


async def test_media_header(sb: SandboxClient) -> None:
    image = [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.test/r.png"}}]}
    ]
    await expect_accepted(sb, template_payload(TO, "receipt", components=image))
    await expect_error(sb, template_payload(TO, "receipt"), 400, 132012)
    video = [{"type": "header", "parameters": [{"type": "video", "video": {"id": "123"}}]}]
    await expect_error(sb, template_payload(TO, "receipt", components=video), 400, 132012)
    no_media = [{"type": "header", "parameters": [{"type": "image", "image": {}}]}]
    await expect_error(sb, template_payload(TO, "receipt", components=no_media), 400, 131008)


async def test_url_button_parameter(sb: SandboxClient) -> None:
    button = {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": "SB-1"}],
    }
    await expect_accepted(sb, template_payload(TO, "track_order", components=[button]))
    await expect_error(sb, template_payload(TO, "track_order"), 400, 132000)


async def test_malformed_parameters(sb: SandboxClient) -> None:
    cases: list[tuple[list[Any], int]] = [
        ([{"type": "body", "parameters": [{"type": "text"}]}], 131008),
        ([{"type": "body", "parameters": [{"type": "emoji", "emoji": "x"}]}], 100),
        (
            [{"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "$1"}}]}],
            131008,
        ),
        ([{"type": "body", "parameters": "Ann"}], 100),
        ([{"type": "footer", "parameters": []}], 100),
        ([{"type": "button", "index": "0", "parameters": []}], 131008),
    ]
    for components, code in cases:
        await expect_error(sb, template_payload(TO, "hello_world", components=components), 400, code)


async def add_paging_templates(sb: SandboxClient, count: int) -> list[str]:
    phone = {
        "phone_number_id": "100000000000004",
        "waba_id": WABA_PAGING,
        "access_token": TOKEN_PAGING,
        "display_phone_number": "+1 555 000 0004",
    }
    assert (await sb.http.post("/_sandbox/phone-numbers", json=phone)).status_code == 201
    names = []
    for index in range(count):
        template = {
            "waba_id": WABA_PAGING,
            "name": f"page_tpl_{index:02d}",
            "language": "en_US" if index % 3 else "es",
            "status": "APPROVED" if index % 4 else "REJECTED",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": f"Template {index}"}],
        }
        response = await sb.http.post("/_sandbox/templates", json=template)
        assert response.status_code == 201, response.text
        assert response.json()["id"].isdigit()
        names.append(template["name"])
    return names


async def test_template_list_pages_across_several_pages(sb: SandboxClient) -> None:
    names = await add_paging_templates(sb, 11)
    seen: list[str] = []
    url: str | None = f"/v25.0/{WABA_PAGING}/message_templates?limit=4"
    pages = 0
    while url is not None:
        response = await sb.http.get(url, headers={"Authorization": f"Bearer {TOKEN_PAGING}"})
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        assert len(page["data"]) <= 4
        seen.extend(t["name"] for t in page["data"])
        for template in page["data"]:
            assert {"id", "name", "language", "status", "category", "components"} <= set(template)
        assert set(page["paging"]["cursors"]) == {"before", "after"}
        url = page["paging"].get("next")
        if url is not None:
            parts = urlsplit(url)
            assert parts.scheme == "http"
            assert parts.netloc
            assert parse_qs(parts.query)["limit"] == ["4"]
            assert parse_qs(parts.query)["after"] == [page["paging"]["cursors"]["after"]]
    assert pages == 3
    assert seen == names


async def test_template_list_default_limit_filters_and_auth(sb: SandboxClient) -> None:
    names = await add_paging_templates(sb, 30)
    auth = {"Authorization": f"Bearer {TOKEN_PAGING}"}
    first = (await sb.http.get(f"/v25.0/{WABA_PAGING}/message_templates", headers=auth)).json()
    assert [t["name"] for t in first["data"]] == names[:25]
    assert "next" in first["paging"]

    spanish = await sb.http.get(
        f"/v25.0/{WABA_PAGING}/message_templates",
        params={"language": "es", "status": "APPROVED"},
        headers=auth,
    )
    assert [t["name"] for t in spanish.json()["data"]] == [
        n for i, n in enumerate(names) if i % 3 == 0 and i % 4 != 0
    ]
    assert "next" not in spanish.json()["paging"]

    by_name = await sb.http.get(
        f"/v25.0/{WABA_PAGING}/message_templates", params={"name": "page_tpl_05"}, headers=auth
    )
    assert [t["name"] for t in by_name.json()["data"]] == ["page_tpl_05"]

    query_token = await sb.http.get(
        f"/v25.0/{WABA_PAGING}/message_templates", params={"access_token": TOKEN_PAGING, "limit": 1}
    )
    assert query_token.status_code == 200


@pytest.mark.parametrize("token", [None, "EAAnope", TOKEN_OTHER_WABA])
async def test_template_list_refuses_tokens_outside_the_waba(sb: SandboxClient, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await sb.http.get(f"/v25.0/{WABA}/message_templates", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 190


async def test_template_list_accepts_any_token_of_the_waba(sb: SandboxClient) -> None:
    for token in (TOKEN, TOKEN_2):
        response = await sb.http.get(
            f"/v25.0/{WABA}/message_templates", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
        assert "order_update" in {t["name"] for t in response.json()["data"]}


async def test_template_list_bad_cursor_and_limit(sb: SandboxClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for params in ({"after": "bm90LWFuLWlk"}, {"limit": "0"}, {"limit": "many"}):
        response = await sb.http.get(f"/v25.0/{WABA}/message_templates", params=params, headers=auth)
        assert response.status_code == 400, params
        assert response.json()["error"]["code"] == 100


async def test_admin_template_validation(sb: SandboxClient) -> None:
    response = await sb.http.post("/_sandbox/templates", json={"waba_id": WABA, "language": "en_US"})
    assert response.status_code == 400
    response = await sb.http.post(
        "/_sandbox/templates",
        json={
            "waba_id": WABA,
            "name": "x",
            "language": "en_US",
            "parameter_format": "weird",
            "components": [],
        },
    )
    assert response.status_code == 400
