"""Meta-compatible media routes: upload, metadata, download and delete (reference §7)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from wanotify.sandbox.errors import MetaError, invalid_token
from wanotify.sandbox.media import MAX_UPLOAD_BYTES, Media, check_upload
from wanotify.sandbox.models import PhoneNumber
from wanotify.sandbox.responses import VERSION_PATTERN, access_token, check_version, json_response
from wanotify.sandbox.state import SandboxState

DOWNLOAD_PATH = "/_sandbox/media-download"
# Multipart framing around the largest allowed file.
_MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 1024 * 1024


def _no_object(object_id: str) -> MetaError:
    return MetaError(
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation.",
    )


def media_routes(state: SandboxState) -> list[HTTPRouteHandler]:
    def authorize_phone(request: Request[Any, Any, Any], phone_number_id: str) -> PhoneNumber:
        token = access_token(request)
        if not token or not state.known_token(token):
            raise invalid_token()
        phone = state.phone_numbers.get(phone_number_id)
        if phone is None:
            raise _no_object(phone_number_id)
        if token != phone.access_token:
            raise invalid_token()
        return phone

    def authorized_media(request: Request[Any, Any, Any], media_id: str) -> Media:
        token = access_token(request)
        if not token or not state.known_token(token):
            raise invalid_token()
        media = state.media.get(media_id)
        if media is None:
            raise _no_object(media_id)
        owner = state.phone_numbers.get(media.phone_number_id)
        if owner is not None and token not in state.tokens_of_waba(owner.waba_id):
            raise _no_object(media_id)
        return media

    @post(
        "/{version:str}/{phone_number_id:str}/media",
        status_code=200,
        request_max_body_size=_MAX_REQUEST_BYTES,
    )
    async def upload(
        request: Request[Any, Any, Any], version: FromPath[str], phone_number_id: FromPath[str]
    ) -> Response[bytes]:
        check_version(version)
        phone = authorize_phone(request, phone_number_id)
        try:
            form = await request.form()
        except Exception:
            raise MetaError(100, "The request body must be multipart/form-data.") from None
        if form.get("messaging_product") != "whatsapp":
            raise MetaError(100, "The parameter messaging_product is required and must be 'whatsapp'.")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise MetaError(100, "The parameter file is required.")
        declared = form.get("type")
        mime = declared if isinstance(declared, str) and declared.strip() else upload.content_type
        data = await upload.read()
        media = state.media.add(phone.phone_number_id, check_upload(mime or "", len(data)), data)
        return json_response({"id": media.id})

    @get("/{version:str}/{media_id:str}")
    async def media_info(
        request: Request[Any, Any, Any], version: FromPath[str], media_id: FromPath[str]
    ) -> Response[bytes]:
        if not VERSION_PATTERN.fullmatch(version):
            raise NotFoundException()
        media = authorized_media(request, media_id)
        url = request.url
        return json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{url.scheme}://{url.netloc}{DOWNLOAD_PATH}/{media.id}",
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": media.file_size,
                "id": media.id,
            }
        )

    @delete("/{version:str}/{media_id:str}", status_code=200)
    async def delete_media(
        request: Request[Any, Any, Any], version: FromPath[str], media_id: FromPath[str]
    ) -> Response[bytes]:
        if not VERSION_PATTERN.fullmatch(version):
            raise NotFoundException()
        media = authorized_media(request, media_id)
        state.media.remove(media.id)
        return json_response({"success": True})

    @get(DOWNLOAD_PATH + "/{media_id:str}")
    async def download(request: Request[Any, Any, Any], media_id: FromPath[str]) -> Response[bytes]:
        token = access_token(request)
        if not token or not state.known_token(token):
            raise invalid_token()
        media = state.media.get(media_id)
        if media is None:
            raise NotFoundException()
        return Response(content=media.data, status_code=200, media_type=media.mime_type)

    return [upload, media_info, delete_media, download]
