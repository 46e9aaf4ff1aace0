"""Outbound HTTP to addresses owners type in (webhooks, a self-hosted listmonk): one
requests session that refuses loopback, private, link-local, shared, reserved and
metadata addresses, checked on the address it is about to connect to.

Written here because no maintained library does it for requests: checking a URL's
host before the request is not enough (a name can resolve to a public address for the
check and to 127.0.0.1 a moment later: DNS rebinding), so the check sits in urllib3's
connection itself. Each resolved address is checked, and the socket is opened to the
address that passed, never resolved again. Redirects are not followed, proxies from the
environment are not used, and an answer is read to MAX_BODY bytes at most (a GET of a
blog's feed to the limit it names)."""
from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from widget.core.said import stored

TIMEOUT = 10  # seconds, to connect and between bytes of the answer
MAX_BODY = 64 * 1024
# Cloud metadata services: refused even where private targets are allowed.
METADATA = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"),
            ipaddress.ip_network("fd00:ec2::254/128"), ipaddress.ip_network("100.100.100.200/32"))


# Python's ipaddress calls some special blocks global in some 3.11 releases (192.0.0.8):
# these are internal whatever it says.
INTERNAL = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("198.18.0.0/15"))


# What this module stores in English, shown translated in the dashboard (core/said.py)
METADATA_ADDRESS = stored("%(ip)s is a link-local or metadata address")
NOT_A_HOST = stored("%(ip)s is not a host address")
INTERNAL_ADDRESS = stored("%(ip)s is a reserved or otherwise internal address")
PRIVATE_ADDRESS = stored("%(ip)s is a loopback or private address")


# Which private addresses may be reached: none (False), all (True), or these
# (address, port) pairs (settings.private_allowed).
Allowed = bool | frozenset[tuple[str, int]]


class Refused(Exception):
    """The target's address is one outbound requests may not reach."""


def refusal(address: str, allow_private: Allowed = False,
            port: int | None = None) -> str | None:
    """Why `address` (an IP as text) may not be reached on `port`, or None when it may.
    With `allow_private` True, loopback and private networks are allowed (a service on the
    operator's LAN); with a set of (address, port) pairs, only those; metadata and
    link-local addresses never are."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if any(ip in net for net in METADATA if net.version == ip.version):
        return METADATA_ADDRESS % {"ip": ip}
    if ip.is_multicast or ip.is_unspecified:
        return NOT_A_HOST % {"ip": ip}
    if ip.is_loopback or (ip.is_private and not ip.is_reserved):  # ::1 counts as reserved
        allowed = allow_private is True or (
            isinstance(allow_private, frozenset) and (str(ip), port) in allow_private)
        return None if allowed else PRIVATE_ADDRESS % {"ip": ip}
    if not ip.is_global or any(ip in net for net in INTERNAL if net.version == ip.version):
        return INTERNAL_ADDRESS % {"ip": ip}
    return None


def _guarded(base):
    class Guarded(base):
        allow_private = False

        def _new_conn(self) -> socket.socket:
            # Resolve once, check every answer, connect to one that passed.
            reasons = []
            for family, kind, proto, _, sockaddr in socket.getaddrinfo(
                    self._dns_host, self.port, type=socket.SOCK_STREAM):
                reason = refusal(sockaddr[0], self.allow_private, sockaddr[1])
                if reason:
                    reasons.append(reason)
                    continue
                sock = socket.socket(family, kind, proto)
                sock.settimeout(self.timeout if isinstance(self.timeout, (int, float))
                                else TIMEOUT)
                try:
                    sock.connect(sockaddr)
                except OSError:
                    sock.close()
                    raise
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            raise Refused("; ".join(dict.fromkeys(reasons)) or "no address")
    return Guarded


def _pool(base, connection, allow_private: Allowed):
    conn = type(connection.__name__, (connection,), {"allow_private": allow_private})
    return type(base.__name__, (base,), {"ConnectionCls": conn})


class _Adapter(HTTPAdapter):
    def __init__(self, allow_private: Allowed):
        self.allow_private = allow_private
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _pool(HTTPConnectionPool, _guarded(HTTPConnection), self.allow_private),
            "https": _pool(HTTPSConnectionPool, _guarded(HTTPSConnection), self.allow_private)}
        self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)


def session(allow_private: Allowed = False) -> requests.Session:
    """A requests session whose every connection passes the address check
    (WIDGET_WEBHOOK_ALLOW_PRIVATE: none, all, or some private addresses allowed)."""
    made = requests.Session()
    made.trust_env = False  # no proxy from the environment: it would do the connecting
    adapter = _Adapter(allow_private)
    made.mount("http://", adapter)
    made.mount("https://", adapter)
    return made


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict
    body: bytes  # at most MAX_BODY


def post(http: requests.Session, url: str, body: bytes, headers: dict,
         method: str = "POST") -> Answer:
    """Send `body` and read the answer's first MAX_BODY bytes. Raises Refused, or
    requests.RequestException for a network error or a timeout."""
    with http.request(method, url, data=body, headers=headers, timeout=TIMEOUT,
                      allow_redirects=False, stream=True) as resp:
        read = b""
        for chunk in resp.iter_content(8192):
            read += chunk
            if len(read) >= MAX_BODY:
                break
        return Answer(resp.status_code, dict(resp.headers), read[:MAX_BODY])


class TooBig(Exception):
    """The answer is longer than the reader would take."""


def get(http: requests.Session, url: str, headers: dict, max_body: int,
        timeout: float = TIMEOUT) -> Answer:
    """GET `url` and read its whole answer, at most `max_body` bytes (decoded), within
    `timeout` seconds in all. Raises TooBig, Refused, or requests.RequestException for a
    network error or a timeout."""
    deadline = time.monotonic() + timeout
    with http.get(url, headers=headers, timeout=timeout, allow_redirects=False,
                  stream=True) as resp:
        length = resp.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > max_body:
            raise TooBig(url)
        read = bytearray()
        try:
            # read1 returns what one receive brought, so a server that drips a byte at
            # a time meets the deadline too (read(n) would wait for all n bytes).
            while chunk := resp.raw.read1(65536, decode_content=True):
                read += chunk
                if len(read) > max_body:
                    raise TooBig(url)
                if time.monotonic() > deadline:
                    raise requests.Timeout(f"no whole answer within {timeout:g} seconds")
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.Timeout(str(exc)) from None
        except urllib3.exceptions.HTTPError as exc:  # a broken stream or encoding
            raise requests.ConnectionError(str(exc)) from None
        return Answer(resp.status_code, dict(resp.headers), bytes(read))
