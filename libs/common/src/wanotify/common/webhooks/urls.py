"""Where a webhook may be sent: the SSRF rules for a tenant's endpoint URL and its resolved addresses.

``check_url`` runs when an endpoint is saved: scheme, shape, IP literals and local-only names.
``resolve_and_check`` runs before every connection, because a name that was public when saved may
resolve to an internal address later (DNS rebinding); the caller must connect to an address it
returned, not resolve again. ``allow_private`` is for self-hosted setups whose receivers live on the
same network; multicast, broadcast and unspecified addresses are refused even then.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Awaitable, Callable
from typing import NoReturn
from urllib.parse import urlsplit

from wanotify.common.domain.errors import DomainError, ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) → the addresses it resolves to; injected so delivery and registration share one.
Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_URL_LENGTH = 2048
_MAX_HOST_LENGTH = 253
_LOCAL_NAMES = ("localhost",)
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal")

_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
_LIMITED_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix: the last 32 bits are IPv4

_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
# WHATWG URL: a host whose last label is a decimal or 0x number is parsed as IPv4, so "127.1",
# "2130706433" or "0x7f.0.0.1" reach 127.0.0.1 in a browser or curl. They are not hostnames either.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


class UnsafeDestination(DomainError):
    """A webhook host resolved to no address, or to one it may not be sent to."""

    code = "UNSAFE_WEBHOOK_DESTINATION"


def _forbidden_char(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf")


def address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_private: bool) -> bool:
    """Whether a webhook may be sent to ``ip``: only public unicast addresses unless ``allow_private``;
    never multicast, broadcast or unspecified. An IPv6 address carrying an IPv4 one (IPv4-mapped,
    NAT64, 6to4) is judged by the IPv4 address it reaches."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return address_allowed(ip.ipv4_mapped, allow_private=allow_private)
        if ip in _NAT64:
            return address_allowed(ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF), allow_private=allow_private)
        if ip.sixtofour is not None and not address_allowed(ip.sixtofour, allow_private=allow_private):
            return False
    if ip.is_multicast or ip.is_unspecified or ip == _LIMITED_BROADCAST:
        return False
    if allow_private:
        return True
    if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved:
        return False
    if isinstance(ip, ipaddress.IPv4Address):
        if ip in _SHARED_ADDRESS_SPACE:
            return False
    elif ip.is_site_local or ip in _UNIQUE_LOCAL:
        return False
    # is_global also excludes what the flags above miss: documentation, benchmarking, 192.0.0.0/24...
    return ip.is_global


def check_url(url: str, *, allow_http: bool, allow_private: bool, field: str = "url") -> str:
    """``url`` unchanged when a webhook may be sent to it; ValidationFailed ``INVALID_WEBHOOK_URL``
    otherwise. Names are not resolved here: see ``resolve_and_check``."""

    def refuse(reason: str) -> NoReturn:
        raise ValidationFailed(f"webhook URL refused: {reason}", field=field, code="INVALID_WEBHOOK_URL")

    if not isinstance(url, str) or not url:
        refuse("a URL is required")
    if len(url) > MAX_URL_LENGTH:
        refuse(f"longer than {MAX_URL_LENGTH} characters")
    if any(_forbidden_char(ch) for ch in url):
        refuse("it contains whitespace or control characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        refuse("not a valid URL")
    try:
        port = parts.port
    except ValueError:
        refuse("the port must be a number from 1 to 65535")
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        refuse(f"the scheme must be {' or '.join(schemes)}")
    if "@" in parts.netloc:
        refuse("user names and passwords are not allowed in the URL")
    if "#" in url:
        refuse("a fragment (#...) is not allowed")
    if port == 0:
        refuse("the port must be a number from 1 to 65535")
    host = parts.hostname
    if not host:
        refuse("no host")

    if "[" in parts.netloc:
        try:
            ip: IPAddress = ipaddress.IPv6Address(host)
        except ValueError:
            refuse(f"{host!r} is not a valid IPv6 address")
        if not address_allowed(ip, allow_private=allow_private):
            refuse(f"{host} is not a public address")
        return url

    name = host.removesuffix(".")
    if not name.isascii():
        try:
            # IDNA also maps look-alikes ("１２７.０.０.１" becomes "127.0.0.1"), so the checks below see
            # the name that would be resolved.
            name = name.encode("idna").decode("ascii").lower()
        except UnicodeError:
            refuse(f"{host!r} is not a valid host name")
    labels = name.split(".")
    if len(name) > _MAX_HOST_LENGTH or not all(_LABEL.fullmatch(label) for label in labels):
        refuse(f"{host!r} is not a valid host name")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        try:
            ip = ipaddress.IPv4Address(name)
        except ValueError:
            refuse(f"{host!r} is not a valid host: an IPv4 address is four decimal numbers, like 192.0.2.1")
        if not address_allowed(ip, allow_private=allow_private):
            refuse(f"{host} is not a public address")
        return url
    if not allow_private:
        if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
            refuse(f"{host!r} is a local name")
        # A name without a dot is looked up in the local search domains (e.g. a cluster's services).
        if len(labels) == 1:
            refuse(f"{host!r} is not a fully qualified domain name")
    return url


async def resolve_and_check(
    host: str,
    port: int,
    *,
    allow_private: bool,
    resolver: Resolver,
) -> list[str]:
    """The addresses ``host`` resolves to, all of them allowed; UnsafeDestination when there are none
    or any one is refused (one bad answer is enough: the connection could use it)."""
    addresses = await resolver(host, port)
    if not addresses:
        raise UnsafeDestination(f"webhook host {host!r} resolved to no address")
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            raise UnsafeDestination(f"webhook host {host!r} resolved to an invalid address") from None
        if not address_allowed(ip, allow_private=allow_private):
            # The address itself stays out of the message: it would tell a tenant about our network.
            raise UnsafeDestination(f"webhook host {host!r} resolves to an address a webhook may not go to")
    return list(addresses)


async def system_resolver(host: str, port: int) -> list[str]:
    """The system's addresses for ``host`` (TCP), de-duplicated in resolver order. A lookup failure
    raises ``socket.gaierror`` (an OSError): it may be temporary, unlike a refused address."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))
