"""The Graph API client: one shared ``httpx.AsyncClient``, created by the service and passed in."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from wanotify.common.config import MetaSettings
from wanotify.common.domain.template import MetaTemplate
from wanotify.common.meta.errors import ErrorEnvelope, MetaApiError, MetaTransportError


class _SentMessage(msgspec.Struct):
    id: str
    message_status: str | None = None


class _SendResponse(msgspec.Struct):
    messages: list[_SentMessage]


class _Paging(msgspec.Struct):
    next: str | None = None


class _TemplatePage(msgspec.Struct):
    data: list[MetaTemplate] = []
    paging: _Paging | None = None


class SendResult(msgspec.Struct, frozen=True):
    wamid: str
    message_status: str | None


def create_http_client(settings: MetaSettings, *, max_connections: int = 100) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout_seconds, connect=min(5.0, settings.timeout_seconds)),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
    )


class MetaClient:
    def __init__(self, settings: MetaSettings, http: httpx.AsyncClient) -> None:
        self._base = f"{settings.graph_base_url}/{settings.graph_version}"
        self._http = http

    async def send_message(
        self, phone_number_id: str, access_token: str, payload: dict[str, Any]
    ) -> SendResult:
        url = f"{self._base}/{phone_number_id}/messages"
        try:
            response = await self._http.post(
                url, content=msgspec.json.encode(payload), headers=_headers(access_token)
            )
        except httpx.TimeoutException as exc:
            raise MetaTransportError("timeout", f"Graph API timed out: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise MetaTransportError("network", f"Graph API unreachable: {type(exc).__name__}") from exc
        if response.status_code == 200:
            try:
                sent = msgspec.json.decode(response.content, type=_SendResponse).messages[0]
            except (msgspec.DecodeError, msgspec.ValidationError, IndexError) as exc:
                raise MetaTransportError("bad_response", "unexpected success body", http_status=200) from exc
            return SendResult(wamid=sent.id, message_status=sent.message_status)
        raise _error_from(response)

    async def list_templates(
        self, waba_id: str, access_token: str, *, page_size: int = 100, max_pages: int = 1000
    ) -> list[MetaTemplate]:
        """``GET /{waba-id}/message_templates``, following ``paging.next`` to the last page."""
        url: str | None = f"{self._base}/{waba_id}/message_templates"
        params: dict[str, str] | None = {"limit": str(page_size)}
        found: list[MetaTemplate] = []
        for _ in range(max_pages):
            if url is None:
                break
            try:
                response = await self._http.get(url, params=params, headers=_headers(access_token))
            except httpx.TimeoutException as exc:
                raise MetaTransportError("timeout", f"Graph API timed out: {type(exc).__name__}") from exc
            except httpx.HTTPError as exc:
                raise MetaTransportError("network", f"Graph API unreachable: {type(exc).__name__}") from exc
            if response.status_code != 200:
                raise _error_from(response)
            try:
                page = msgspec.json.decode(response.content, type=_TemplatePage)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise MetaTransportError("bad_response", "unexpected template list", http_status=200) from exc
            found.extend(page.data)
            # `next` is a complete URL carrying the query (cursor included).
            url, params = (page.paging.next if page.paging else None), None
        return found


def _headers(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"}


def _error_from(response: httpx.Response) -> Exception:
    try:
        body = msgspec.json.decode(response.content, type=ErrorEnvelope).error
    except (msgspec.DecodeError, msgspec.ValidationError):
        return MetaTransportError(
            "bad_response",
            f"Graph API answered HTTP {response.status_code}",
            http_status=response.status_code,
        )
    return MetaApiError(
        body.code,
        body.message,
        http_status=response.status_code,
        details=body.error_data.details if body.error_data else "",
        fbtrace_id=body.fbtrace_id,
    )
