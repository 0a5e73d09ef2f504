"""The SSRF rules for client webhook endpoints: URL shape, IP literals, local names, resolved addresses."""

from __future__ import annotations

import ipaddress

import pytest

from wanotify.common.domain.errors import DomainError, ValidationFailed
from wanotify.common.webhooks.urls import (
    UnsafeDestination,
    address_allowed,
    check_url,
    resolve_and_check,
    system_resolver,
)

ACCEPTED = [
    "https://example.com/hook",
    "https://example.com",
    "https://example.com:8443/hooks/wa?tenant=42&x=1",
    "https://hooks.example.co.uk/a/b/c",
    "https://EXAMPLE.com/hook",
    "https://example.com./hook",
    "https://my_host.example.com/hook",
    "https://xn--bcher-kva.de/hook",
    "https://bücher.de/hook",
    "https://93.184.216.34/hook",
    "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
    "https://[::ffff:93.184.216.34]/hook",
    "https://example.com/" + "a" * 2000,
]

REFUSED = [
    pytest.param("http://example.com/hook", id="http"),
    pytest.param("http://127.0.0.1/hook", id="http-loopback"),
    pytest.param("https://127.0.0.1/hook", id="loopback"),
    pytest.param("https://10.0.0.1/hook", id="private-10"),
    pytest.param("https://172.16.5.4/hook", id="private-172"),
    pytest.param("https://192.168.1.1/hook", id="private-192"),
    pytest.param("https://169.254.169.254/latest/meta-data", id="metadata"),
    pytest.param("https://[::1]/hook", id="ipv6-loopback"),
    pytest.param("https://[fd00::1]/hook", id="unique-local"),
    pytest.param("https://[fe80::1]/hook", id="ipv6-link-local"),
    pytest.param("https://[fec0::1]/hook", id="site-local"),
    pytest.param("https://[::ffff:127.0.0.1]/hook", id="mapped-loopback"),
    pytest.param("https://[::ffff:10.0.0.1]/hook", id="mapped-private"),
    pytest.param("https://[64:ff9b::a9fe:a9fe]/hook", id="nat64-metadata"),
    pytest.param("https://[2002:7f00:1::]/hook", id="6to4-loopback"),
    pytest.param("https://0.0.0.0/hook", id="unspecified"),
    pytest.param("https://[::]/hook", id="ipv6-unspecified"),
    pytest.param("https://100.64.0.1/hook", id="shared-address-space"),
    pytest.param("https://224.0.0.1/hook", id="multicast"),
    pytest.param("https://[ff02::1]/hook", id="ipv6-multicast"),
    pytest.param("https://240.0.0.1/hook", id="reserved"),
    pytest.param("https://255.255.255.255/hook", id="broadcast"),
    pytest.param("https://192.0.2.10/hook", id="documentation"),
    pytest.param("https://localhost/hook", id="localhost"),
    pytest.param("https://LOCALHOST./hook", id="localhost-dot"),
    pytest.param("https://api.localhost/hook", id="dot-localhost"),
    pytest.param("https://printer.local/hook", id="dot-local"),
    pytest.param("https://metadata.google.internal/computeMetadata/v1/", id="dot-internal"),
    pytest.param("https://redis:6379/hook", id="single-label"),
    pytest.param("https://user:pw@example.com/hook", id="userinfo"),
    pytest.param("https://user@example.com/hook", id="user"),
    pytest.param("https://@example.com/hook", id="empty-userinfo"),
    pytest.param("https://example.com/#frag", id="fragment"),
    pytest.param("https://example.com/#", id="empty-fragment"),
    pytest.param("not a url", id="not-a-url"),
    pytest.param("notaurl", id="no-scheme-word"),
    pytest.param("ftp://example.com", id="ftp"),
    pytest.param("file:///etc/passwd", id="file"),
    pytest.param("javascript:alert(1)", id="javascript"),
    pytest.param("example.com/hook", id="no-scheme"),
    pytest.param("//example.com/hook", id="scheme-relative"),
    pytest.param("https://", id="no-host"),
    pytest.param("https:///hook", id="empty-host"),
    pytest.param("https:example.com", id="no-authority"),
    pytest.param("", id="empty"),
    pytest.param("https://example.com/" + "a" * 2030, id="too-long"),
    pytest.param("https://example.com/a b", id="space"),
    pytest.param("https://example.com/\thook", id="tab"),
    pytest.param("https://example.com/hook\n", id="newline"),
    pytest.param(" https://example.com/hook", id="leading-space"),
    pytest.param("https://example.com/\x00", id="nul"),
    pytest.param("https://example.com/\u200bhook", id="zero-width"),
    pytest.param("https://example.com:0/hook", id="port-zero"),
    pytest.param("https://example.com:65536/hook", id="port-too-big"),
    pytest.param("https://example.com:-1/hook", id="port-negative"),
    pytest.param("https://example.com:https/hook", id="port-name"),
    pytest.param("https://[::1/hook", id="unclosed-bracket"),
    pytest.param("https://[127.0.0.1]/hook", id="bracketed-ipv4"),
    pytest.param("https://[example.com]/hook", id="bracketed-name"),
    pytest.param("https://2130706433/hook", id="decimal-ipv4"),
    pytest.param("https://0x7f000001/hook", id="hex-ipv4"),
    pytest.param("https://0x7f.0.0.1/hook", id="hex-octet"),
    pytest.param("https://0177.0.0.1/hook", id="octal-ipv4"),
    pytest.param("https://127.1/hook", id="short-ipv4"),
    pytest.param("https://1.2.3.4.5/hook", id="five-octets"),
    pytest.param("https://8.8.8.256/hook", id="octet-too-big"),
    pytest.param("https://example.123/hook", id="numeric-tld"),
    pytest.param("https://１２７.０.０.１/hook", id="fullwidth-loopback"),
    pytest.param("https://%31%32%37.0.0.1/hook", id="percent-encoded-host"),
    pytest.param("https://exa%6dple.com/hook", id="percent-in-name"),
    pytest.param("https://example.com\\@127.0.0.1/hook", id="backslash-userinfo"),
    pytest.param("https://example..com/hook", id="empty-label"),
    pytest.param("https://-/hook", id="bad-name"),
    pytest.param("https://" + "a" * 64 + ".com/hook", id="label-too-long"),
]

PRIVATE_BUT_UNICAST = [
    "http://127.0.0.1/hook",
    "https://10.0.0.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://[fd00::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://100.64.0.1/hook",
    "https://localhost/hook",
    "https://api.localhost/hook",
    "https://printer.local/hook",
    "https://service.internal/hook",
    "https://redis:6379/hook",
]

NEVER = [
    "https://0.0.0.0/hook",
    "https://[::]/hook",
    "https://224.0.0.1/hook",
    "https://[ff02::1]/hook",
    "https://255.255.255.255/hook",
    "https://[::ffff:224.0.0.1]/hook",
    "https://[::ffff:0.0.0.0]/hook",
]


@pytest.mark.parametrize("url", ACCEPTED)
def test_accepted(url: str) -> None:
    assert check_url(url, allow_http=False, allow_private=False) == url


@pytest.mark.parametrize("url", REFUSED)
def test_refused(url: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_url(url, allow_http=False, allow_private=False, field="endpoint.url")
    assert caught.value.code == "INVALID_WEBHOOK_URL"
    assert caught.value.field == "endpoint.url"


def test_http_only_when_allowed() -> None:
    url = "http://example.com/hook"
    assert check_url(url, allow_http=True, allow_private=False) == url
    with pytest.raises(ValidationFailed, match="https"):
        check_url(url, allow_http=False, allow_private=False)
    with pytest.raises(ValidationFailed):
        check_url("ftp://example.com", allow_http=True, allow_private=True)


def test_allow_http_does_not_allow_private() -> None:
    with pytest.raises(ValidationFailed):
        check_url("http://127.0.0.1/hook", allow_http=True, allow_private=False)


@pytest.mark.parametrize("url", PRIVATE_BUT_UNICAST)
def test_private_accepted_when_allowed(url: str) -> None:
    assert check_url(url, allow_http=True, allow_private=True) == url


@pytest.mark.parametrize("url", NEVER)
def test_multicast_broadcast_unspecified_refused_even_when_private_allowed(url: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_url(url, allow_http=True, allow_private=True)
    assert caught.value.code == "INVALID_WEBHOOK_URL"


@pytest.mark.parametrize(
    "url",
    ["https://user:pw@10.0.0.1/", "https://10.0.0.1/#x", "https://2130706433/", "https://127.1/"],
)
def test_allow_private_keeps_the_shape_rules(url: str) -> None:
    with pytest.raises(ValidationFailed):
        check_url(url, allow_http=True, allow_private=True)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://example.com:65536/", "port"),
        ("https://example.com:0/", "port"),
        ("http://example.com/", "scheme must be https"),
        ("https://u:p@example.com/", "user names and passwords"),
        ("https://example.com/#x", "fragment"),
        ("https://example.com/ x", "whitespace"),
        ("https://127.1/", "four decimal numbers"),
        ("https://10.0.0.1/", "not a public address"),
        ("https://localhost/", "local name"),
    ],
)
def test_the_message_says_why(url: str, reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason):
        check_url(url, allow_http=False, allow_private=False)


def test_default_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_url("ftp://example.com", allow_http=False, allow_private=False)
    assert caught.value.field == "url"


@pytest.mark.parametrize(
    ("address", "public", "private"),
    [
        ("93.184.216.34", True, True),
        ("8.8.8.8", True, True),
        ("2606:2800:220:1:248:1893:25c8:1946", True, True),
        ("::ffff:93.184.216.34", True, True),
        ("64:ff9b::808:808", True, True),
        ("127.0.0.1", False, True),
        ("127.255.0.1", False, True),
        ("10.1.2.3", False, True),
        ("172.31.255.255", False, True),
        ("192.168.0.1", False, True),
        ("169.254.169.254", False, True),
        ("100.64.0.1", False, True),
        ("100.127.255.254", False, True),
        ("198.18.0.1", False, True),
        ("240.0.0.1", False, True),
        ("::1", False, True),
        ("fe80::1", False, True),
        ("fec0::1", False, True),
        ("fc00::1", False, True),
        ("fd12:3456::1", False, True),
        ("::ffff:127.0.0.1", False, True),
        ("::ffff:169.254.169.254", False, True),
        ("64:ff9b::a00:1", False, True),
        ("2002:a00:1::1", False, True),
        ("2001:db8::1", False, True),
        ("0.0.0.0", False, False),
        ("::", False, False),
        ("224.0.0.1", False, False),
        ("239.255.255.250", False, False),
        ("ff02::1", False, False),
        ("255.255.255.255", False, False),
        ("::ffff:224.0.0.1", False, False),
        ("::ffff:0.0.0.0", False, False),
    ],
)
def test_address_allowed(address: str, public: bool, private: bool) -> None:
    ip = ipaddress.ip_address(address)
    assert address_allowed(ip, allow_private=False) is public
    assert address_allowed(ip, allow_private=True) is private


class FakeResolver:
    """Stands in for DNS: fixed answers per host, and a record of what was asked."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return list(self.answers.get(host, []))


async def test_resolve_and_check_accepts_public_answers() -> None:
    resolver = FakeResolver({"example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]})
    addresses = await resolve_and_check("example.com", 443, allow_private=False, resolver=resolver)
    assert addresses == ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    assert resolver.calls == [("example.com", 443)]


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param(["93.184.216.34", "10.0.0.5"], id="one-private-answer"),
        pytest.param(["10.0.0.5", "93.184.216.34"], id="private-first"),
        pytest.param(["169.254.169.254"], id="metadata"),
        pytest.param(["::ffff:127.0.0.1"], id="mapped-loopback"),
        pytest.param(["fe80::1%eth0"], id="scoped-link-local"),
        pytest.param([], id="nothing"),
        pytest.param(["not-an-address"], id="garbage"),
    ],
)
async def test_resolve_and_check_refuses(answers: list[str]) -> None:
    resolver = FakeResolver({"rebind.example.com": answers})
    with pytest.raises(UnsafeDestination) as caught:
        await resolve_and_check("rebind.example.com", 443, allow_private=False, resolver=resolver)
    assert caught.value.code == "UNSAFE_WEBHOOK_DESTINATION"
    assert isinstance(caught.value, DomainError)
    assert "rebind.example.com" in caught.value.message
    for answer in answers:
        assert answer not in caught.value.message


async def test_resolve_and_check_with_private_allowed() -> None:
    resolver = FakeResolver({"receiver.internal": ["10.0.0.5", "fd00::5"], "mcast.internal": ["224.0.0.1"]})
    assert await resolve_and_check("receiver.internal", 8080, allow_private=True, resolver=resolver) == [
        "10.0.0.5",
        "fd00::5",
    ]
    with pytest.raises(UnsafeDestination):
        await resolve_and_check("mcast.internal", 8080, allow_private=True, resolver=resolver)


async def test_system_resolver_resolves_an_ip_literal() -> None:
    # A literal needs no DNS server: getaddrinfo answers it locally.
    assert await system_resolver("127.0.0.1", 443) == ["127.0.0.1"]
    with pytest.raises(UnsafeDestination):
        await resolve_and_check("127.0.0.1", 443, allow_private=False, resolver=system_resolver)
