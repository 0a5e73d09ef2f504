"""``JsonBody[T]``: request bodies decoded by :func:`decode_json`, documented as ``T``.

Litestar's own decoding would answer hostile input (invalid UTF-8, deep nesting, NUL) with a 500 or
its own error shape; this DTO keeps handlers typed (``data: T``) while every refusal is a domain
error with the field named. It transforms nothing, so it needs none of a DTO's field machinery.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, ClassVar, Generic, TypeVar

from litestar._openapi.schema_generation import SchemaCreator
from litestar.dto import AbstractDTO
from litestar.dto._backend import DTOBackend
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.openapi.spec import Reference, Schema
from litestar.typing import FieldDefinition

from wanotify.common.domain.errors import UnsupportedMediaType
from wanotify.common.edge.body import decode_json

T = TypeVar("T")


class JsonBody(AbstractDTO[T], Generic[T]):
    # What the document shows, when it differs from what is decoded (a bulk request decodes its
    # items one by one, so each can be refused on its own).
    documented_as: ClassVar[Any] = None

    @classmethod
    def create_for_field_definition(
        cls,
        field_definition: FieldDefinition,
        handler_id: str,
        backend_cls: type[DTOBackend] | None = None,
    ) -> None:
        return None

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: SchemaCreator
    ) -> Reference | Schema:
        shown = cls.documented_as or cls.model_type
        return schema_creator.for_field_definition(FieldDefinition.from_annotation(shown))

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    def decode_bytes(self, value: bytes) -> Any:
        return decode_json(value, self.model_type)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        raise UnsupportedMediaType("Content-Type must be application/json", field="Content-Type")
