"""The SSRF guard for every URL a person gives us: webhook targets and web push endpoints.

A URL is resolved *once*, every address it resolves to must be globally routable (no loopback,
link-local, private, shared, multicast, reserved or unspecified space, IPv4-mapped IPv6 included),
and the request then goes to that very address (the ``Host`` header and TLS SNI keep the name), so
DNS rebinding between the check and the connection cannot redirect it. Redirects are never
followed. An operator allowlist (hosts or CIDRs) and a per-webhook flag an administrator sets open
the guard for targets inside the municipality's own network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from notifications.errors import ForbiddenTarget, UnresolvableTarget

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    """The URL with the host replaced by the checked address."""
    host: str
    address: str
    host_header: str
    allowlisted: bool = False
    """Whether an operator allowlisted this host or address (e.g. a plain-http test push service)."""


# IPv6 forms that carry (or translate to) an IPv4 address, so a "global" IPv6 address can reach an IPv4
# target the guard would refuse (6to4 2002:7f00:1:: is 127.0.0.1). None of them is a push service's or a
# webhook receiver's address; all are refused outright (IPv4-mapped addresses are judged by their IPv4).
EMBEDDED_IPV4 = tuple(
    ipaddress.ip_network(net)
    for net in (
        "2002::/16",  # 6to4 (RFC 3056; deprecated by RFC 7526)
        "64:ff9b::/96",  # NAT64 well-known prefix (RFC 6052)
        "64:ff9b:1::/48",  # NAT64 local-use prefix (RFC 8215)
        "2001::/32",  # Teredo (RFC 4380)
        "::/96",  # IPv4-compatible (deprecated, RFC 4291)
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT, RFC 2765)
    )
)


def embeds_ipv4(address: IPAddress) -> bool:
    """An IPv6 address of a transition form that embeds an IPv4 address (ISATAP's interface id too)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return False
    if any(address in network for network in EMBEDDED_IPV4):
        return True
    interface_id = int(address) & ((1 << 64) - 1)
    return interface_id >> 32 in (0x00005EFE, 0x02005EFE)  # ISATAP (RFC 5214)


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if embeds_ipv4(address):
        return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
    )


def _allowlisted(host: str, address: IPAddress, allowlist: Iterable[str]) -> bool:
    for entry in allowlist:
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            if host.lower() == entry:
                return True
    return False


def check_url_syntax(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ForbiddenTarget("only absolute http(s) URLs are allowed")
    if parts.username or parts.password:
        raise ForbiddenTarget("URLs with credentials are not allowed")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise ForbiddenTarget("the URL has an invalid port") from error
    return parts.scheme, parts.hostname, port


async def resolve(url: str, *, allow_private: bool = False, allowlist: Iterable[str] = ()) -> Target:
    """Resolve and check ``url``; raise ``ForbiddenTarget`` if any address is not allowed."""
    scheme, host, port = check_url_syntax(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:  # an empty or over-long label fails to encode first
        raise UnresolvableTarget(f"the host {host!r} does not resolve") from error
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
    if not addresses:
        raise UnresolvableTarget(f"the host {host!r} does not resolve")
    allowlist = list(allowlist)
    for address in addresses:
        if not (allow_private or is_public(address) or _allowlisted(host, address, allowlist)):
            raise ForbiddenTarget(
                f"{host!r} resolves to {address}, which is not a public address; an administrator must"
                " allow this target explicitly"
            )
    chosen = addresses[0]
    parts = urlsplit(url)
    literal = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    return Target(
        url=urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")),
        host=host,
        address=str(chosen),
        host_header=parts.netloc,
        allowlisted=all(_allowlisted(host, address, allowlist) for address in addresses),
    )
