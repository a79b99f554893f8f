"""Configuration of a p2p node: one frozen dataclass, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from p2p._identity import SEED_BYTES

MIB = 1024 * 1024


@dataclass(frozen=True)
class P2PConfig:
    """Everything a :class:`P2PNode` needs; defaults suit a validator on a LAN or the internet.

    ``static_peers`` are ``/ip4/.../tcp/.../p2p/<id>`` addresses (see ``peer_multiaddr``),
    kept dialled for the node's whole life. Durations are in seconds of trio's clock.
    """

    seed: bytes
    listen_host: str = "0.0.0.0"
    listen_port: int = 0
    static_peers: tuple[str, ...] = ()
    max_message_bytes: int = 4 * MIB
    max_request_bytes: int = 1 * MIB
    subscription_buffer: int = 1024
    publish_queue_high_water: int = 16
    publish_wait_cap_seconds: float = 5.0
    redial_initial_seconds: float = 0.2
    redial_max_seconds: float = 3.0
    request_read_seconds: float = 30.0
    reject_penalty: int = 10
    ban_threshold: int = -100
    ban_seconds: float = 60.0
    score_recovery_per_second: int = 1
    dedup_capacity: int = 65_536
    isolate_file: Path | None = None
    """Tests only: while this file exists the node holds no connection (a partition on one box)."""

    def __post_init__(self) -> None:
        if len(self.seed) != SEED_BYTES:
            raise ValueError(f"seed: must be {SEED_BYTES} bytes, got {len(self.seed)}")
        if not 0 <= self.listen_port < 65536:
            raise ValueError(f"listen_port: must be in 0..65535, got {self.listen_port}")
        positive = ("max_message_bytes", "max_request_bytes", "subscription_buffer",
                    "publish_queue_high_water", "publish_wait_cap_seconds",
                    "redial_initial_seconds", "redial_max_seconds", "request_read_seconds",
                    "reject_penalty", "ban_seconds", "dedup_capacity")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)}")
        if self.redial_max_seconds < self.redial_initial_seconds:
            raise ValueError("redial_max_seconds: must be >= redial_initial_seconds")
        if self.ban_threshold >= 0:
            raise ValueError(f"ban_threshold: must be < 0, got {self.ban_threshold}")
        if self.score_recovery_per_second < 0:
            raise ValueError("score_recovery_per_second: must be >= 0")
        if self.max_message_bytes > 32 * MIB:
            raise ValueError("max_message_bytes: must be <= 32 MiB (one gossip RPC carries it)")
