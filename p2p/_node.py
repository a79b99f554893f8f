"""P2PNode: one trio service that owns the host, the topics, request handlers and peer scores."""

from __future__ import annotations

from typing import Callable

import multiaddr
import structlog
import trio
from libp2p.abc import INetStream
from libp2p.custom_types import TProtocol
from libp2p.exceptions import BaseLibp2pError
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr

from p2p._config import P2PConfig
from p2p._errors import P2PError, PeerUnavailable
from p2p._gossip import Gossip
from p2p._host import build_host
from p2p._metrics import Counters, P2PMetrics
from p2p._reqresp import Handler, request, serve
from p2p._scoring import PeerScores, ScoringPolicy
from p2p._topics import Message, Validator

log = structlog.get_logger(__name__)

HOUSEKEEPING_SECONDS = 0.25
"""How often bans are enforced and lifted; a banned peer that reconnects is cut within this."""
DIAL_TIMEOUT_SECONDS = 10.0
"""One dial, with the swarm's own quick retries, gives up after this."""


class P2PNode:
    """A validator's network presence: run it in a nursery with ``await nursery.start(node.run)``.

    Topics and request handlers may be registered before or after start.
    """

    def __init__(self, config: P2PConfig) -> None:
        self._config = config
        self._host, self._listen = build_host(config.seed, config.listen_host, config.listen_port)
        network = self._host.get_network()
        network.connection_gate = _IsolationGate(network.connection_gate, lambda: self.isolated)
        self._static_peers = [_parse_peer(address) for address in config.static_peers]
        self._counters = Counters()
        self._scores = PeerScores(ScoringPolicy(config.ban_threshold, config.ban_seconds,
                                                config.score_recovery_per_second))
        self._gossip = Gossip(self._host, config, self._counters, self._on_bad_gossip)

    @property
    def peer_id(self) -> str:
        """Our base58 peer id (derived from the seed's public key)."""
        return self._host.get_id().to_base58()

    @property
    def listen_addrs(self) -> list[str]:
        """Dialable ``.../p2p/<id>`` addresses, with the real port once listening."""
        return sorted(str(address) for address in self._host.get_addrs())

    @property
    def isolated(self) -> bool:
        """Tests only: cut off from every peer while ``isolate_file`` exists (no dial in, none out)."""
        return self._config.isolate_file is not None and self._config.isolate_file.exists()

    def connected_peers(self) -> list[str]:
        """Peer ids with an open connection, sorted."""
        connections = self._host.get_network().connections
        return sorted(peer.to_base58() for peer, conns in connections.items() if conns)

    def metrics(self) -> P2PMetrics:
        """Counters and peer counts, as a plain snapshot."""
        return P2PMetrics.snapshot(self._counters, peers_connected=len(self.connected_peers()),
                                   peers_banned=len(self._scores.banned(trio.current_time())))

    def score(self, peer_id: str) -> int:
        """The peer's current score: 0 is clean, below ``ban_threshold`` is banned."""
        return self._scores.score(peer_id, trio.current_time())

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen, start gossip, keep the static peers dialled; ``started()`` once listening.

        Raises :class:`P2PError` ``listen_failed`` when the address cannot be bound.
        """
        try:
            await self._serve(task_status)
        except BaseExceptionGroup as group:
            failure = _sole_p2p_error(group)
            if failure is None:
                raise
            raise failure from None

    async def _serve(self, task_status: trio.TaskStatus[None]) -> None:
        async with self._host.run([self._listen]), trio.open_nursery() as nursery:
            if not self._host.get_transport_addrs():  # py-libp2p swallows the bind error
                raise P2PError("listen_failed", f"listen address {self._listen}: could not bind "
                               "(port in use or address not local?)")
            await nursery.start(self._gossip.run)
            for peer in self._static_peers:
                if peer.peer_id != self._host.get_id():
                    nursery.start_soon(self._keep_dialled, peer)
            nursery.start_soon(self._enforce_bans)
            log.info("p2p_started", peer_id=self.peer_id, listen=self.listen_addrs,
                     static_peers=len(self._static_peers))
            task_status.started()
            await trio.sleep_forever()

    def subscribe(self, topic: str, validate: Validator) -> trio.MemoryReceiveChannel[Message]:
        """Messages of ``topic`` accepted by ``validate(data, author_peer_id)``, ours excluded."""
        return self._gossip.subscribe(topic, validate)

    async def publish(self, topic: str, data: bytes) -> None:
        """Gossip ``data`` on ``topic``; waits while outbound queues are long."""
        await self._gossip.publish(topic, data)

    def set_handler(self, protocol_id: str, handler: Handler) -> None:
        """Answer requests on ``protocol_id`` with ``async handler(peer_id, request) -> bytes``."""
        async def on_stream(stream: INetStream) -> None:
            self._counters.requests_in += 1
            answered = await serve(stream, handler, max_request_bytes=self._config.max_request_bytes,
                                   read_seconds=self._config.request_read_seconds,
                                   refuse=self._refusal)
            if not answered:
                self._counters.request_errors += 1

        self._host.set_stream_handler(TProtocol(protocol_id), on_stream)

    async def request(self, peer_id: str, protocol_id: str, data: bytes, *,
                      max_response_bytes: int) -> bytes:
        """Send one request and return the response; :class:`P2PError` subclasses on failure."""
        if self._refusal(peer_id) is not None:
            raise PeerUnavailable("peer_banned", f"peer {peer_id} is banned")
        self._counters.requests_out += 1
        try:
            return await request(self._host, peer_id, protocol_id, data,
                                 max_request_bytes=self._config.max_request_bytes,
                                 max_response_bytes=max_response_bytes)
        except P2PError:
            self._counters.request_errors += 1
            raise

    def penalize(self, peer_id: str, points: int, reason: str) -> None:
        """Lower the peer's score; under the threshold it is disconnected and refused a while."""
        now = trio.current_time()
        self._counters.penalties += 1
        started_ban = self._scores.penalize(peer_id, points, now)
        log.info("peer_penalized", peer_id=peer_id, points=points, reason=reason,
                 score=self._scores.score(peer_id, now))
        if started_ban:
            self._counters.bans += 1
            log.warning("peer_banned", peer_id=peer_id, reason=reason,
                        seconds=self._config.ban_seconds)
            self._gossip.set_blacklist(self._scores.banned(now))

    def _on_bad_gossip(self, forwarder: str, reason: str) -> None:
        self.penalize(forwarder, self._config.reject_penalty, reason)

    def _refusal(self, peer_id: str) -> P2PError | None:
        if self._scores.is_banned(peer_id, trio.current_time()):
            return P2PError("peer_banned", f"peer {peer_id} is banned for misbehaviour")
        return None

    async def _enforce_bans(self) -> None:
        while True:
            now = trio.current_time()
            for peer_id in self._scores.lift_expired(now):
                log.info("peer_unbanned", peer_id=peer_id)
            self._gossip.set_blacklist(self._scores.banned(now))
            connected = set(self.connected_peers())
            cut = connected if self.isolated else set(self._scores.banned(now)) & connected
            for peer_id in sorted(cut):
                await self._disconnect(peer_id)
            await trio.sleep(HOUSEKEEPING_SECONDS)

    async def _disconnect(self, peer_id: str) -> None:
        try:
            await self._host.disconnect(ID.from_base58(peer_id))
        except (BaseLibp2pError, OSError) as error:
            log.info("disconnect_failed", peer_id=peer_id, error=repr(error))

    async def _keep_dialled(self, peer: PeerInfo) -> None:
        """Our own redial loop: py-libp2p waits 60 s before redialling a failed peer (pitfall 7)."""
        peer_id = peer.peer_id.to_base58()
        delay = self._config.redial_initial_seconds
        while True:
            if peer_id in self.connected_peers() or self._refusal(peer_id) is not None or self.isolated:
                delay = self._config.redial_initial_seconds
            else:
                delay = await self._dial(peer, delay)
            await trio.sleep(delay)

    async def _dial(self, peer: PeerInfo, delay: float) -> float:
        """One dial attempt; returns the delay before the next check (capped backoff)."""
        self._forget_dial_failure(peer.peer_id)
        try:
            with trio.fail_after(DIAL_TIMEOUT_SECONDS):
                await self._host.connect(peer)
        except (BaseLibp2pError, OSError, trio.TooSlowError) as error:
            first_failure = delay == self._config.redial_initial_seconds
            (log.info if first_failure else log.debug)(
                "peer_unreachable", peer_id=peer.peer_id.to_base58(), error=repr(error))
            return min(delay * 2, self._config.redial_max_seconds)
        log.info("peer_dialled", peer_id=peer.peer_id.to_base58())
        return self._config.redial_initial_seconds

    def _forget_dial_failure(self, peer: ID) -> None:
        """Lift the swarm's 60 s "recently failed" block so our own schedule decides."""
        negative_cache = getattr(self._host.get_network(), "_negative_peer_cache", None)
        if negative_cache is not None:
            negative_cache.evict(str(peer))


class _IsolationGate:
    """py-libp2p's connection gate (it judges every inbound connection and every dialled address),
    refusing everything while the node is isolated (tests only), else asking the gate it wraps."""

    def __init__(self, inner: object, isolated: Callable[[], bool]) -> None:
        self._inner = inner
        self._isolated = isolated

    async def is_allowed(self, remote_addr: multiaddr.Multiaddr) -> bool:
        return not self._isolated() and await self._inner.is_allowed(remote_addr)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def _sole_p2p_error(group: BaseExceptionGroup) -> P2PError | None:
    """The one P2PError that nurseries wrapped in groups, if that is all the group holds."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        error = pending.pop()
        if isinstance(error, BaseExceptionGroup):
            pending.extend(error.exceptions)
        else:
            leaves.append(error)
    if len(leaves) == 1 and isinstance(leaves[0], P2PError):
        return leaves[0]
    return None


def _parse_peer(address: str) -> PeerInfo:
    try:
        return info_from_p2p_addr(multiaddr.Multiaddr(address))
    except Exception as error:
        raise ValueError(f"static_peers: {address!r} is not a /.../p2p/<id> address: {error}") from error
