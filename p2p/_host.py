"""The libp2p host: TCP, Noise only, yamux, one connection per peer.

``libp2p.new_host()`` with defaults also accepts plaintext, TLS and SECIO
peers (notes/libp2p.md pitfall 1) and waits >= 250 ms per connect unless a
peer is limited to one connection (pitfall 2). The Noise static key is a
fresh X25519 key per process: the libp2p handshake signs it with the
validator's Ed25519 key, which is what authenticates the peer id.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Callable

import multiaddr
from libp2p import new_host
from libp2p.abc import IHost
from libp2p.crypto.x25519 import X25519PrivateKey
from libp2p.network.config import ConnectionConfig
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux

from p2p._identity import key_pair_from_seed


def build_host(seed: bytes, listen_host: str, listen_port: int) -> tuple[IHost, multiaddr.Multiaddr]:
    """A host with the validator identity of ``seed``, and the address it should listen on."""
    route_libp2p_logs()
    batch_yamux_window_updates()
    key_pair = key_pair_from_seed(seed)
    listen = multiaddr.Multiaddr(f"/ip4/{listen_host}/tcp/{listen_port}")
    host = new_host(
        key_pair=key_pair,
        sec_opt={NOISE_PROTOCOL_ID: NoiseTransport(key_pair, noise_privkey=X25519PrivateKey.new())},
        muxer_opt={YAMUX_PROTOCOL_ID: Yamux},
        listen_addrs=[listen],
        connection_config=ConnectionConfig(max_connections_per_peer=1),
    )
    reuse_advertised_addrs(host)
    return host, listen


ADDRS_REFRESH_SECONDS = 1.0


def reuse_advertised_addrs(host: IHost, clock: Callable[[], float] = time.monotonic) -> None:
    """Compute the addresses the host advertises at most once per ``ADDRS_REFRESH_SECONDS``.

    py-libp2p's pubsub asks for them for every RPC it sends (to attach a signed peer record,
    which p2p/_gossip.py drops after the hello) and builds them anew each time from multiaddr
    strings: 6 % of a validator's time with a lone till (docs/performance.md). They change only
    when a listener or an observed address does; a second of delay in advertising one is harmless.
    """
    compute = host.get_addrs
    cached: list[multiaddr.Multiaddr] = []
    computed_at = -float("inf")

    def get_addrs() -> list[multiaddr.Multiaddr]:
        nonlocal cached, computed_at
        now = clock()
        if now - computed_at >= ADDRS_REFRESH_SECONDS:
            cached, computed_at = compute(), now
        return list(cached)

    host.get_addrs = get_addrs  # type: ignore[method-assign]


def batch_yamux_window_updates() -> None:
    """Send yamux window updates per half window (go-yamux), not after every read.

    py-libp2p's default sends one after each read, and pubsub reads each
    message's length prefix byte by byte: about three window-update frames per
    gossip message received. Measured with 4 nodes: 64 % fewer window-update
    frames and ~15 % less CPU per message. py-libp2p reads the knob from the
    environment at each read; an operator's own setting wins.
    """
    os.environ.setdefault("PY_YAMUX_RELEASE_ON_READ", "0")


def route_libp2p_logs() -> None:
    """Send libp2p's records to the root logger (structlog), WARNING and above (pitfall 11).

    The TCP transport logs every failed dial as an error; a validator that is
    down is routine, and our redial loop reports it once as ``peer_unreachable``.
    """
    level = max(logging.WARNING, logging.getLogger().level)
    libp2p_logger = logging.getLogger("libp2p")
    libp2p_logger.propagate = True
    libp2p_logger.setLevel(level)
    for name in sorted(logging.root.manager.loggerDict):
        if name.startswith("libp2p."):  # some modules set INFO on their own logger
            logging.getLogger(name).setLevel(logging.NOTSET)
    logging.getLogger("libp2p.transport.tcp.tcp").setLevel(logging.CRITICAL)
