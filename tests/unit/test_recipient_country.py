"""The recipient's country, derived from the number with ``phonenumbers``, and the numbers refused."""

from __future__ import annotations

import pytest

from wanotify.common.domain.errors import Unprocessable
from wanotify.common.domain.phone import recipient_country


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("+14155550123", "US"),
        ("+16135550123", "CA"),  # +1 shared: the area code says which
        ("+442071234567", "GB"),
        ("+447911123456", "GG"),  # +44 shared: Guernsey
        ("+447700900123", "GB"),  # a possible number in no allocated range keeps the code's country
        ("+4915123456789", "DE"),
        ("+5511987654321", "BR"),
        ("+351912345678", "PT"),
        ("+919876543210", "IN"),
        ("+80012345678", None),  # non-geographic: no country
    ],
)
def test_a_possible_number_has_its_country(number: str, country: str | None) -> None:
    assert recipient_country(number) == country


@pytest.mark.parametrize(
    "number",
    [
        "+12345",  # too short for +1
        "+15550102",  # dialable only locally: not reachable on WhatsApp
        "+9991234567",  # no such country code
        "+3519123",  # too short for Portugal
        "+491512345678901234",  # too long
    ],
)
def test_an_impossible_number_is_refused_naming_the_field(number: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        recipient_country(number, field="notifications[2].recipient.phone_number")
    assert refused.value.code == "IMPOSSIBLE_PHONE_NUMBER"
    assert refused.value.field == "notifications[2].recipient.phone_number"
