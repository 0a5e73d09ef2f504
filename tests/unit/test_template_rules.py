"""The ingest checks against a template (pure): locale fallback, statuses, parameters."""

from __future__ import annotations

from typing import Any

import pytest

from wanotify.common.domain.errors import Unprocessable
from wanotify.common.domain.message import HeaderParameter, TemplateContent, TemplateParameter
from wanotify.common.domain.template import (
    Template,
    check_filled_body,
    check_parameters,
    normalize_language,
    resolve,
)


def tpl(language: str, status: str = "APPROVED", body: str = "Hi {{1}}", **extra: Any) -> Template:
    components = extra.pop("components", [{"type": "BODY", "text": body}])
    return Template(
        id="tpl_1",
        tenant_id="ten_1",
        waba_id="w",
        name="greet",
        language=language,
        status=status,
        parameter_format=extra.pop("parameter_format", "POSITIONAL"),
        components=components,
    )


def code_of(fn: Any, *args: Any) -> str:
    with pytest.raises(Unprocessable) as info:
        fn(*args)
    return info.value.code


def test_the_chain_takes_the_first_approved_locale() -> None:
    found = [tpl("pt_BR", "PAUSED"), tpl("pt"), tpl("en")]
    assert resolve(found, "greet", "pt_BR", {"pt_BR": ["pt", "en"]}).language == "pt"
    assert resolve(found, "greet", "en", {"pt_BR": ["pt"]}).language == "en"
    assert code_of(resolve, found, "greet", "pt_BR", {}) == "TEMPLATE_NOT_APPROVED"
    assert code_of(resolve, found, "greet", "de", {"de": ["fr"]}) == "TEMPLATE_NOT_FOUND"
    assert code_of(resolve, found, "other", "en", {}) == "TEMPLATE_NOT_FOUND"


def test_language_normalization() -> None:
    assert normalize_language("en-US") == "en_US"
    assert normalize_language("pt_BR") == "pt_BR"


def test_positional_and_named_parameters() -> None:
    t = tpl("en", body="Hi {{1}}, {{2}} and {{1}} again")
    ok = TemplateContent(name="greet", language="en", parameters=[TemplateParameter("text", "a")] * 2)
    check_parameters(t, ok)
    short = TemplateContent(name="greet", language="en", parameters=[TemplateParameter("text", "a")])
    assert code_of(check_parameters, t, short) == "TEMPLATE_PARAMETER_MISMATCH"
    named = tpl("en", body="Hi {{first_name}}", parameter_format="NAMED")
    check_parameters(
        named,
        TemplateContent(
            name="greet", language="en", parameters=[TemplateParameter("text", "a", name="first_name")]
        ),
    )
    assert code_of(check_parameters, named, short) == "TEMPLATE_PARAMETER_MISMATCH"


def test_headers() -> None:
    t = tpl("en", components=[{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "x"}])
    with_image = TemplateContent(
        name="greet", language="en", header=HeaderParameter(type="image", link="https://f.example/a.png")
    )
    check_parameters(t, with_image)
    assert (
        code_of(check_parameters, t, TemplateContent(name="greet", language="en"))
        == "TEMPLATE_PARAMETER_MISMATCH"
    )
    plain = tpl("en", body="x")
    assert code_of(check_parameters, plain, with_image) == "TEMPLATE_PARAMETER_MISMATCH"


def test_a_body_over_1024_once_filled_is_refused() -> None:
    template = tpl("en", body="Order {{1}}: {{2}}")
    fits = TemplateContent(
        name="t",
        language="en",
        parameters=[
            TemplateParameter(type="text", value="A1"),
            TemplateParameter(type="text", value="x" * 1000),
        ],
    )
    check_filled_body(template, fits)
    too_long = TemplateContent(
        name="t",
        language="en",
        parameters=[
            TemplateParameter(type="text", value="A1"),
            TemplateParameter(type="text", value="x" * 1020),
        ],
    )
    assert code_of(check_filled_body, template, too_long) == "TEMPLATE_BODY_TOO_LONG"


def test_named_bodies_are_filled_by_name() -> None:
    template = tpl("en", body="Hi {{first_name}}", parameter_format="NAMED")
    long_name = TemplateContent(
        name="t",
        language="en",
        parameters=[TemplateParameter(type="text", value="y" * 1022, name="first_name")],
    )
    assert code_of(check_filled_body, template, long_name) == "TEMPLATE_BODY_TOO_LONG"
