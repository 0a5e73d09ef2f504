"""Uploaded media (reference §4.6, §7): the MIME/size table and a bounded in-memory store."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import NamedTuple

import msgspec

from wanotify.sandbox.errors import MetaError
from wanotify.sandbox.ids import new_numeric_id

KB = 1024
MB = 1024 * 1024


class MediaKind(NamedTuple):
    kind: str
    max_bytes: int


# Supported MIME types and their size limits (reference §4.6, M-MEDIA). Stickers: 500 KB (animated).
MEDIA_TYPES: dict[str, MediaKind] = {
    "image/jpeg": MediaKind("image", 5 * MB),
    "image/png": MediaKind("image", 5 * MB),
    "video/mp4": MediaKind("video", 16 * MB),
    "video/3gpp": MediaKind("video", 16 * MB),
    "audio/aac": MediaKind("audio", 16 * MB),
    "audio/amr": MediaKind("audio", 16 * MB),
    "audio/mpeg": MediaKind("audio", 16 * MB),
    "audio/mp4": MediaKind("audio", 16 * MB),
    "audio/ogg": MediaKind("audio", 16 * MB),
    "text/plain": MediaKind("document", 100 * MB),
    "application/pdf": MediaKind("document", 100 * MB),
    "application/msword": MediaKind("document", 100 * MB),
    "application/vnd.ms-excel": MediaKind("document", 100 * MB),
    "application/vnd.ms-powerpoint": MediaKind("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": MediaKind(
        "document", 100 * MB
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": MediaKind("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": MediaKind(
        "document", 100 * MB
    ),
    "image/webp": MediaKind("sticker", 500 * KB),
}
MAX_UPLOAD_BYTES = max(kind.max_bytes for kind in MEDIA_TYPES.values())


def base_mime(content_type: str) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg`."""
    return content_type.split(";", 1)[0].strip().lower()


def check_upload(mime_type: str, size: int) -> str:
    """The normalized MIME type; MetaError(131053) when unsupported, empty or too large."""
    mime = base_mime(mime_type)
    kind = MEDIA_TYPES.get(mime)
    if kind is None:
        supported = ", ".join(MEDIA_TYPES)
        raise MetaError(
            131053,
            f"Param file must be a file with one of the following types: {supported}. "
            f"Received file of type '{mime or 'unknown'}'.",
        )
    if size == 0:
        raise MetaError(131053, "Uploaded file is empty.")
    if size > kind.max_bytes:
        raise MetaError(
            131053, f"The {kind.kind} file is too large: {size} bytes, at most {kind.max_bytes} for {mime}."
        )
    return mime


class Media(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    phone_number_id: str
    mime_type: str
    sha256: str
    file_size: int
    data: bytes
    uploaded_at: float


class MediaStore:
    """Uploaded files by id, oldest evicted first once `max_bytes` is exceeded."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, Media] = OrderedDict()
        self._total = 0

    def add(self, phone_number_id: str, mime_type: str, data: bytes) -> Media:
        media = Media(
            id=new_numeric_id(),
            phone_number_id=phone_number_id,
            mime_type=mime_type,
            sha256=hashlib.sha256(data).hexdigest(),
            file_size=len(data),
            data=data,
            uploaded_at=time.time(),
        )
        self._items[media.id] = media
        self._total += media.file_size
        while self._total > self.max_bytes and len(self._items) > 1:
            _, old = self._items.popitem(last=False)
            self._total -= old.file_size
        return media

    def get(self, media_id: str) -> Media | None:
        return self._items.get(media_id)

    def remove(self, media_id: str) -> bool:
        media = self._items.pop(media_id, None)
        if media is None:
            return False
        self._total -= media.file_size
        return True

    def clear(self) -> None:
        self._items.clear()
        self._total = 0

    @property
    def total_bytes(self) -> int:
        return self._total
