from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "unknown"


def parse_ip(raw: str) -> str | None:
    """An address as a socket or a proxy wrote it, in canonical form; None when it is not an IP address.

    Takes `203.0.113.9`, `203.0.113.9:4711`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:4711`, a zone
    (`fe80::1%eth0`, dropped) and an IPv4-mapped IPv6 address (`::ffff:203.0.113.9`, given back as IPv4).
    """
    text = (raw or "").strip().strip('"')
    if not text or len(text) > 100:
        return None
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
    elif text.count(":") == 1:  # IPv4 with a port (an IPv6 address has at least two colons)
        host, _, port = text.partition(":")
        if not port.isdigit():
            return None
    else:
        host = text
    host = host.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the right-most untrusted hop of X-Forwarded-For behind proxies.

    Always a canonical IP address or `"unknown"` (an empty REMOTE_ADDR, a hop that is not an address): never
    anything a database `inet` column or `ipaddress` would refuse.
    """
    proxies = settings.MAWID_TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            return parse_ip(hops[-proxies]) or UNKNOWN
    return parse_ip(request.META.get("REMOTE_ADDR", "")) or UNKNOWN


def client_network(ip: str | None) -> str:
    """The unit rate limits count clients by: an IPv4 address, or an IPv6 /64 (one subscriber's usual allocation,
    so a client cannot escape a per-address limit by walking its own prefix). `"unknown"` for anything else."""
    address = parse_ip(ip or "")
    if address is None:
        return UNKNOWN
    if ":" in address:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return address
