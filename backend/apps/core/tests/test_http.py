"""Client addresses: whatever a socket or a proxy wrote, the result is a canonical IP address or "unknown"."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from apps.core.http import client_ip, client_network, parse_ip


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("203.0.113.9", "203.0.113.9"),
        (" 203.0.113.9 ", "203.0.113.9"),
        ("203.0.113.9:4711", "203.0.113.9"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:4711", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ('"[2001:db8::1]:4711"', "2001:db8::1"),
        ("", None),
        ("unknown", None),
        ("_hidden", None),
        ("203.0.113.9:http", None),
        ("[2001:db8::1]x", None),
        ("[2001:db8::1", None),
        ("300.1.1.1", None),
        ("203.0.113.9" + " " * 200, "203.0.113.9"),
        ("1" * 200, None),
    ],
)
def test_parse_ip(raw, expected):
    assert parse_ip(raw) == expected


@pytest.mark.parametrize(
    ("meta", "proxies", "expected"),
    [
        ({"REMOTE_ADDR": "198.51.100.7"}, 0, "198.51.100.7"),
        ({"REMOTE_ADDR": ""}, 0, "unknown"),
        ({"REMOTE_ADDR": "not-an-ip"}, 0, "unknown"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.9:4711"}, 1, "203.0.113.9"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, [2001:db8::7]:4711"}, 1, "2001:db8::7"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, unknown"}, 1, "unknown"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "garbage, 1.2.3.4, 10.0.0.1"}, 2, "1.2.3.4"),
        ({"REMOTE_ADDR": "10.0.0.2"}, 1, "10.0.0.2"),  # no header: the socket's address
    ],
)
def test_client_ip_is_an_address_or_unknown(settings, meta, proxies, expected):
    settings.MAWID_TRUSTED_PROXY_COUNT = proxies
    request = APIRequestFactory().get("/", **meta)
    assert client_ip(request) == expected


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("unknown", "unknown"),
        (None, "unknown"),
    ],
)
def test_clients_are_counted_by_ipv4_address_or_ipv6_64(ip, expected):
    assert client_network(ip) == expected
