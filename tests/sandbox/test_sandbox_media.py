"""Media upload, metadata, download and delete, and sends by uploaded media id."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import StartSandbox
from tests.sandbox.harness import PNID, PNID_2, TOKEN, TOKEN_2, TOKEN_OTHER_WABA, VERSION, SandboxClient

pytestmark = pytest.mark.asyncio(loop_scope="session")

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MB = 1024 * 1024


async def upload(
    http: httpx.AsyncClient,
    data: bytes = PNG,
    mime: str = "image/png",
    *,
    fields: dict[str, str] | None = None,
    phone_number_id: str = PNID,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    form = {"messaging_product": "whatsapp"} if fields is None else fields
    return await http.post(
        f"/{VERSION}/{phone_number_id}/media",
        data=form,
        files={"file": ("upload.bin", data, mime)},
        headers=AUTH if headers is None else headers,
    )


async def uploaded_id(http: httpx.AsyncClient, data: bytes = PNG, mime: str = "image/png") -> str:
    response = await upload(http, data, mime)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["id"]
    media_id: str = body["id"]
    return media_id


async def test_upload_get_download_delete(sb: SandboxClient) -> None:
    media_id = await uploaded_id(sb.http)
    info = await sb.http.get(f"/{VERSION}/{media_id}", headers=AUTH)
    assert info.status_code == 200, info.text
    meta = info.json()
    assert set(meta) == {"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}
    assert meta["messaging_product"] == "whatsapp"
    assert (meta["id"], meta["mime_type"], meta["file_size"]) == (media_id, "image/png", len(PNG))
    assert meta["sha256"] == hashlib.sha256(PNG).hexdigest()
    # Any token of the same WABA may read it.
    assert (
        await sb.http.get(f"/{VERSION}/{media_id}", headers={"Authorization": f"Bearer {TOKEN_2}"})
    ).json() == meta

    async with httpx.AsyncClient(timeout=10) as plain:
        refused = await plain.get(meta["url"])
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == 190
        downloaded = await plain.get(meta["url"], headers=AUTH)
        assert downloaded.status_code == 200
        assert downloaded.content == PNG
        assert downloaded.headers["content-type"].startswith("image/png")

        deleted = await sb.http.delete(f"/{VERSION}/{media_id}", headers=AUTH)
        assert deleted.status_code == 200
        assert deleted.json() == {"success": True}
        assert (await plain.get(meta["url"], headers=AUTH)).status_code == 404
    for method in ("GET", "DELETE"):
        gone = await sb.http.request(method, f"/{VERSION}/{media_id}", headers=AUTH)
        assert gone.status_code == 400
        assert gone.json()["error"]["code"] == 100


async def test_type_field_and_mime_parameters(sb: SandboxClient) -> None:
    media_id = await uploaded_id(sb.http, b"OggS" + b"\x01" * 10, "audio/ogg; codecs=opus")
    assert (await sb.http.get(f"/{VERSION}/{media_id}", headers=AUTH)).json()["mime_type"] == "audio/ogg"
    declared = await upload(
        sb.http, b"%PDF-1.4", "application/octet-stream",
        fields={"messaging_product": "whatsapp", "type": "application/pdf"},
    )  # fmt: skip
    assert declared.status_code == 200, declared.text
    meta = (await sb.http.get(f"/{VERSION}/{declared.json()['id']}", headers=AUTH)).json()
    assert meta["mime_type"] == "application/pdf"


async def test_unknown_media_id(sb: SandboxClient) -> None:
    for method in ("GET", "DELETE"):
        response = await sb.http.request(method, f"/{VERSION}/1234567890", headers=AUTH)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == 100


async def test_other_waba_cannot_see_media(sb: SandboxClient) -> None:
    media_id = await uploaded_id(sb.http)
    other = {"Authorization": f"Bearer {TOKEN_OTHER_WABA}"}
    response = await sb.http.get(f"/{VERSION}/{media_id}", headers=other)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


@pytest.mark.parametrize(
    ("headers", "phone_number_id", "status", "code"),
    [
        ({}, PNID, 401, 190),
        ({"Authorization": "Bearer nope"}, PNID, 401, 190),
        ({"Authorization": f"Bearer {TOKEN}"}, PNID_2, 401, 190),
        ({"Authorization": f"Bearer {TOKEN}"}, "999", 400, 100),
    ],
)
async def test_upload_auth(
    sb: SandboxClient, headers: dict[str, str], phone_number_id: str, status: int, code: int
) -> None:
    response = await upload(sb.http, phone_number_id=phone_number_id, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


async def test_get_needs_token(sb: SandboxClient) -> None:
    media_id = await uploaded_id(sb.http)
    response = await sb.http.get(f"/{VERSION}/{media_id}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 190


@pytest.mark.parametrize(
    "fields", [{}, {"messaging_product": "telegram"}], ids=["no-messaging-product", "wrong-messaging-product"]
)
async def test_messaging_product_required(sb: SandboxClient, fields: dict[str, str]) -> None:
    response = await upload(sb.http, fields=fields)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


async def test_file_required(sb: SandboxClient) -> None:
    response = await sb.http.post(
        f"/{VERSION}/{PNID}/media",
        data={"messaging_product": "whatsapp"},
        files={"other": ("x", b"1", "image/png")},
        headers=AUTH,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


@pytest.mark.parametrize(
    ("mime", "size"),
    [
        ("image/gif", 10),
        ("application/zip", 10),
        ("image/png", 0),
        ("image/png", 5 * MB + 1),
        ("image/webp", 500 * 1024 + 1),
        ("video/mp4", 16 * MB + 1),
        ("audio/mpeg", 16 * MB + 1),
    ],
)
async def test_unsupported_or_too_large_refused(sb: SandboxClient, mime: str, size: int) -> None:
    response = await upload(sb.http, b"x" * size, mime)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == 131053


async def test_sizes_at_the_limit_accepted(sb: SandboxClient) -> None:
    assert (await upload(sb.http, b"x" * (5 * MB), "image/jpeg")).status_code == 200
    assert (await upload(sb.http, b"x" * (500 * 1024), "image/webp")).status_code == 200


def media_message(media_id: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": "+15550700001", "type": "image", "image": {"id": media_id}}


async def test_send_by_uploaded_id_accepted(sb: SandboxClient) -> None:
    media_id = await uploaded_id(sb.http)
    response = await sb.send(media_message(media_id))
    assert response.status_code == 200, response.text
    assert response.json()["messages"][0]["id"].startswith("wamid.")


@pytest.fixture(scope="module")
async def strict_http(start_sandbox: StartSandbox) -> AsyncIterator[httpx.AsyncClient]:
    server = await start_sandbox(strict_media_ids=True)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http


async def test_strict_media_ids(strict_http: httpx.AsyncClient, sb: SandboxClient) -> None:
    strict = SandboxClient(strict_http, sb.capture)
    media_id = await uploaded_id(strict_http)
    accepted = await strict.send(media_message(media_id))
    assert accepted.status_code == 200, accepted.text
    refused = await strict.send(media_message("1339522734477770"))
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == 131053
    # Deleted media is unknown again; links are not checked.
    await strict_http.delete(f"/{VERSION}/{media_id}", headers=AUTH)
    assert (await strict.send(media_message(media_id))).json()["error"]["code"] == 131053
    link = {**media_message("x"), "image": {"link": "https://cdn.test/a.png"}}
    assert (await strict.send(link)).status_code == 200


async def test_reset_forgets_media(sb: SandboxClient) -> None:
    media_id = await uploaded_id(sb.http)
    assert (await sb.http.post("/_sandbox/reset")).status_code == 200
    assert (await sb.http.get(f"/{VERSION}/{media_id}", headers=AUTH)).status_code == 400


async def test_unknown_paths_still_404(sb: SandboxClient) -> None:
    assert (await sb.http.get("/nothing/here")).status_code == 404
