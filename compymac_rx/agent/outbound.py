"""Calls to a base URL a user chose: public addresses only, pinned after the DNS answer.

A user who may save a key for "their own" base URL could otherwise make the server call
Keycloak, Redis, PostgreSQL or a cloud metadata service, and read from the error messages
which internal ports are open. So for those URLs (never for the operator's own provider
URLs, which are trusted):

- the host is resolved once per connection, and every address it resolves to must be public
  (not loopback, private, link-local, CGNAT, multicast, unspecified, reserved, IPv6 ULA or
  link-local; IPv4 embedded in IPv6 is unwrapped first), unless the host or the address is in
  MODEL_URL_ALLOWLIST;
- the connection is made to the address that was checked, so a second DNS answer (rebinding)
  cannot swap in another one; TLS still verifies the certificate against the host name;
- redirects are not followed, proxies from the environment are not used;
- every failure to connect (blocked, refused, timed out, reset, TLS) reads the same.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore2
import httpx2

from compymac_rx.settings import get_settings

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNREACHABLE = (
    "Could not connect to that base URL. Check the address; the server only calls "
    "public addresses unless its operator allows others."
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


# What the openai SDK's HTTP client (httpx2 on httpcore2) raises when a connection fails.
ConnectFailed = httpcore2.ConnectError


class BlockedAddress(ConnectFailed):
    """The host resolves to an address the server does not call. A connect error, so the SDK
    reports it exactly as it reports a refused connection."""


@functools.cache
def allowlist() -> tuple[frozenset[str], tuple[Network, ...]]:
    """(host names, networks) from MODEL_URL_ALLOWLIST."""
    hosts: set[str] = set()
    networks: list[Network] = []
    for entry in filter(None, (e.strip() for e in get_settings().model_url_allowlist.split(","))):
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            hosts.add(entry.lower().rstrip("."))
    return frozenset(hosts), tuple(networks)


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The address and any IPv4 address it carries (mapped, NAT64, 6to4, Teredo)."""
    found: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            found.append(ip.ipv4_mapped)
        if ip in _NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.extend(ip.teredo)
    return found


def is_public(ip: IPAddress) -> bool:
    # is_global is False for private, loopback, link-local (169.254.169.254 included),
    # CGNAT 100.64/10, unspecified, reserved, benchmarking, ULA (fd00:ec2::254 included).
    return all(a.is_global and not a.is_multicast for a in _embedded(ip))


def allowed(host: str, ip: IPAddress) -> bool:
    hosts, networks = allowlist()
    if host.lower().rstrip(".") in hosts:
        return True
    if any(a in net for a in _embedded(ip) for net in networks if a.version == net.version):
        return True
    return is_public(ip)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, each one checked; BlockedAddress if any is refused.

    One refused address refuses the host: a name that answers both public and private
    addresses is exactly what a rebinding attack serves.
    """
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ConnectFailed(f"cannot resolve {host!r}: {error}") from None
    addresses: list[IPAddress] = []
    for *_, sockaddr in answers:
        # Drop an IPv6 scope ("fe80::1%eth0") before parsing; the address alone decides.
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not allowed(host, ip):
            raise BlockedAddress(f"{host!r} resolves to {ip}, which is not called")
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise ConnectFailed(f"no address for {host!r}")
    return addresses


def check_url(base_url: str) -> None:
    """Raises BlockedAddress (or ConnectError) now, so saving a key can say why at once."""
    parts = urlsplit(base_url)
    if not parts.hostname:
        raise ConnectFailed("no host")
    resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


class _PinnedBackend(httpcore2.SyncBackend):
    """Resolves and checks the host, then connects to the checked address itself."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        last: Exception | None = None
        for ip in resolve(host, port):
            try:
                return super().connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as error:
                last = error
        assert last is not None
        raise last


class PinnedTransport(httpx2.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        # httpx has no public hook for name resolution; httpcore's pool takes a network
        # backend, so the pool is built here with ours (same defaults as httpx's).
        limits = httpx2.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedBackend(),
        )


@functools.cache
def guarded_http_client() -> httpx2.Client:
    """One pool per process for user-chosen base URLs (the key travels per request)."""
    return httpx2.Client(transport=PinnedTransport(), follow_redirects=False, trust_env=False)
