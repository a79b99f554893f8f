"""Checks of the network addresses and URLs a node is configured with.

Each returns the reason a value is refused, or None; the messages name the
expected form, since operators type these by hand.
"""

from __future__ import annotations

import ipaddress
import re

_HOSTNAME_RE = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
_MULTIADDR_RE = re.compile(r"/(ip4|ip6|dns|dns4|dns6)/([^/]+)/tcp/([0-9]{1,5})(?:/p2p/([^/]+))?")
_BASE58_RE = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,128}")


def _host_problem(kind: str, host: str) -> str | None:
    try:
        if kind == "ip4":
            ipaddress.IPv4Address(host)
        elif kind == "ip6":
            ipaddress.IPv6Address(host)
        elif not _HOSTNAME_RE.fullmatch(host):
            return f"{host!r} is not a host name"
    except ValueError:
        return f"{host!r} is not an {kind} address"
    return None


def _port_problem(port: str, lowest: int) -> str | None:
    return None if lowest <= int(port) <= 65535 else f"port {port} is outside {lowest}-65535"


def _multiaddr_problem(text: str, peer: bool) -> str | None:
    match = _MULTIADDR_RE.fullmatch(text)
    form = "/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>" + ("/p2p/<peer id>" if peer else "")
    if match is None or bool(match.group(4)) != peer:
        return f"{text!r} is not a multiaddr of the form {form}"
    kind, host, port, peer_id = match.groups()
    if peer_id is not None and not _BASE58_RE.fullmatch(peer_id):
        return f"{peer_id!r} is not a base58 libp2p peer id"
    return _host_problem(kind, host) or _port_problem(port, 1 if peer else 0)


def listen_problem(value: str) -> str | None:
    return _multiaddr_problem(value, peer=False)


def peers_problem(value: tuple[str, ...]) -> str | None:
    return next(filter(None, (_multiaddr_problem(peer, peer=True) for peer in value)), None)


def bind_problem(value: str) -> str | None:
    host, _, port = value.rpartition(":")
    if not host or not (port.isascii() and port.isdigit()):
        return f"{value!r} is not of the form host:port"
    if host.startswith("[") and host.endswith("]"):
        return _host_problem("ip6", host[1:-1]) or _port_problem(port, 1)
    kind = "ip4" if host.replace(".", "").isdigit() else "dns"
    return _host_problem(kind, host) or _port_problem(port, 1)


def optional_bind_problem(value: str) -> str | None:
    return bind_problem(value) if value else None


def optional_url_problem(value: str) -> str | None:
    if value and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        return f"{value!r} is not an http(s) URL"
    return None
