"""A local multi-validator devnet: N node homes sharing one genesis, run as N processes on 127.0.0.1.

:func:`prepare_devnet` writes (once) a folder that any auditor or operator can
reuse: ``genesis.json``, the federation's authority keys (``authority-<i>.key``;
:data:`AUTHORITIES` of them, :data:`AUTHORITY_THRESHOLD` must co-sign), and one home per
validator (``node<i>/``: node key = validator key and libp2p identity, place key
of its venue, ``config.toml`` listing every other validator as a static peer).
The first three validators also hold a treasury key (``treasury.key``): the
devnet's treasury is 2-of-3 (1-of-1 on a one-validator devnet, 2-of-2 on two),
and each venue starts with a FED float (what it sells for cash) in the genesis.
With a ``stripe`` section (the demo's local fake Stripe), the treasury nodes
verify payments there; without one they do not run their treasury key.
:class:`Devnet` starts the processes, and stops them all (SIGTERM, then SIGKILL
after a grace period) — only the processes it started, by their pid.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import structlog

from config import (ApiSection, AssetSpec, BalanceSpec, ChainParams, FederationSpec, GenesisDoc, KeysSection,
                    MetricsSection, NodeConfig, NodeSection, OfflineSection, P2PSection, PlaceSpec, StripeSection,
                    ValidatorSpec, dump_node_config, load_genesis, write_atomically)
from fedow_node.api.tokens import create_token, tokens_path
from p2p import peer_multiaddr
from wallet.keys import SigningKey, read_key_file, write_key_file
from wallet.layout import place_wallet_id

log = structlog.get_logger(__name__)

HOST = "127.0.0.1"
POS_TOKEN_FILE = "pos-token"
"""Plain POS API token of the node's venue, kept for the devnet's tills (demo, tests, benchmarks)."""
OPERATOR_TOKEN_FILE = "operator-token"
"""Plain operator token of the node, kept for the devnet's dashboard (``dashboard_url``)."""
VALIDATOR_STAKE = 100_000
"""1,000.00 FED staked by each devnet validator at genesis."""
AUTHORITIES = 3
AUTHORITY_THRESHOLD = 2
"""Devnet governance is 2-of-3: one authority key alone can do nothing."""
VENUE_FLOAT = 1_000_000
"""10,000.00 FED of float per venue at genesis (cash refills come out of it)."""
TREASURY_NODES = 3
TREASURY_THRESHOLD = 2
"""The devnet treasury: 2 of the keys of the first 3 validators co-sign every FED mint and burn."""
TREASURY_KEY_FILE = "treasury.key"


@dataclass(frozen=True)
class Ports:
    """Base ports; node ``i`` uses base + i for each service."""

    p2p: int = 26656
    api: int = 8442
    metrics: int = 9442


def _ephemeral_low(default: int = 32768) -> int:
    """First port of the range the kernel hands to outgoing connections (Linux: ip_local_port_range)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def free_port_range(count: int, start: int = 20000) -> int:
    """First of ``count`` consecutive ports free on 127.0.0.1 right now, below the ephemeral range.

    The ports are bound later by the nodes: a port of the ephemeral range could meanwhile be taken
    by any outgoing connection on the box (nodes dial each other all the time), so they are chosen
    below it; the start is spread by the clock so that concurrent runs rarely try the same range.
    """
    stop = max(_ephemeral_low(), start + 4096)  # an unusually low ephemeral range: overlap rather than fail
    base = start + (time.monotonic_ns() // 1000 * 7919) % (stop - start - count)
    for _attempt in range(200):
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sock.bind((HOST, port))
                sockets.append(sock)
            return base
        except OSError:
            base = start + (base + count * 3 - start) % (stop - start - count)
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free range of ports found on 127.0.0.1")


def free_ports(nodes: int) -> Ports:
    """Base ports for ``nodes`` nodes whose 3 x ``nodes`` ports are all free on 127.0.0.1 right now."""
    base = free_port_range(3 * nodes)
    return Ports(p2p=base, api=base + nodes, metrics=base + 2 * nodes)


@dataclass(frozen=True)
class NodeHome:
    index: int
    home: Path
    api_url: str
    public_key: bytes
    place_id: str | None
    """The node's venue: every validator's; a full node's with ``full_node_venues``, else None."""
    p2p_address: str
    """``/ip4/127.0.0.1/tcp/<port>/p2p/<peer id>``: how peers dial it."""

    @property
    def pos_token(self) -> str:
        return (self.home / POS_TOKEN_FILE).read_text().strip()

    @property
    def operator_token(self) -> str:
        return (self.home / OPERATOR_TOKEN_FILE).read_text().strip()

    @property
    def dashboard_url(self) -> str:
        """The node's dashboard, signing in once with its operator token (the page drops it from the address)."""
        return f"{self.api_url}/ui/#token={self.operator_token}"

    @property
    def config_file(self) -> Path:
        return self.home / "config.toml"


def _key(path: Path) -> SigningKey:
    """The key stored at ``path``, created on first use."""
    if not path.exists():
        write_key_file(path, SigningKey.generate())
    return read_key_file(path)


def authority_keys(root: Path) -> list[SigningKey]:
    """The devnet's authority keys (each would live on its own authority's machine in production)."""
    return [_key(root.absolute() / f"authority-{i}.key") for i in range(1, AUTHORITIES + 1)]


def _genesis(chain_id: str, time_ms: int, authorities: list[SigningKey], nodes: list[SigningKey],
             places: list[SigningKey], treasury: list[SigningKey], params: ChainParams, stakes: list[int],
             fed_melts: bool, venue_float: int) -> GenesisDoc:
    place_ids = [f"venue-{i}" for i in range(len(places))]
    return GenesisDoc(
        chain_id=chain_id,
        genesis_time_ms=time_ms,
        authorities=tuple(sorted(key.public_key for key in authorities)),
        authority_threshold=min(AUTHORITY_THRESHOLD, len(authorities)),
        treasury=tuple(key.public_key for key in treasury),
        treasury_threshold=min(TREASURY_THRESHOLD, len(treasury)),
        params=params,
        assets=(
            AssetSpec("FED", "Euro fédéré", "FED", None, fed_melts),
            AssetSpec("MLT", "Monnaie locale fondante", "TLF", place_ids[0], True),
            AssetSpec("MEMBER", "Adhésion association", "SUB", place_ids[0], False),
            AssetSpec("BADGE", "Badgeuse", "BDG", place_ids[0], False),
        ),
        places=tuple(PlaceSpec(pid, f"Venue {i}", key.public_key) for i, (pid, key) in enumerate(zip(place_ids, places))),
        federations=(FederationSpec("devnet", "Devnet federation", tuple(place_ids), ("FED", "MLT", "MEMBER", "BADGE")),),
        validators=tuple(ValidatorSpec(key.public_key, pid, stake) for key, pid, stake in zip(nodes, place_ids, stakes)),
        balances=tuple(BalanceSpec(place_wallet_id(pid), "FED", venue_float) for pid in place_ids),
    )


def prepare_devnet(root: Path, validators: int, ports: Ports = Ports(), chain_id: str = "fedow-devnet",
                   params: ChainParams | None = None, full_nodes: int = 0,
                   stakes: list[int] | None = None, fed_melts: bool = True, stripe: StripeSection | None = None,
                   venue_float: int = VENUE_FLOAT, full_node_venues: bool = False,
                   offline: OfflineSection | None = None) -> list[NodeHome]:
    """Create (or reuse) the devnet folder; returns the node homes, validators first, then full nodes.

    Full nodes (venues that keep a copy of the chain and serve their POS without
    voting) peer with every validator. Existing keys are never replaced. ``stakes``
    (one per validator, default :data:`VALIDATOR_STAKE` each) lets a test give one
    validator more than 2/3 of the power, so that the others can stop without stopping the chain.
    With ``fed_melts`` (the default) FED melts on the devnet schedule of
    :meth:`ChainParams.devnet` (15 s unused, then 2% per 5 s), so a demo shows it;
    tests and benchmarks that count cents over minutes turn it off. ``stripe``
    (``payout_account`` is made per venue: ``acct_venue<i>``) turns on every node's
    Stripe bridge and the treasury nodes' keys; each venue starts with ``venue_float`` FED.
    ``full_node_venues``: each full node is a venue too (``venue-<i>``, a place key, a float and a
    POS token), a bar that keeps its chain without voting. ``offline`` is the ``[offline]`` section
    of every node (devnet default: off). Every node's ``<home>/isolate`` file is its
    ``[p2p] isolate_file``: create it and the node is cut off from every peer, remove it and it
    reconnects (a network partition on one box, for tests and demos of offline sales).
    """
    root = root.absolute()
    root.mkdir(parents=True, exist_ok=True)
    genesis_file = root / "genesis.json"
    nodes = [_key(root / f"node{i}" / "node.key") for i in range(validators)]
    venues = validators + (full_nodes if full_node_venues else 0)
    places = [_key(root / f"node{i}" / "place.key") for i in range(venues)]
    treasury = [_key(root / f"node{i}" / TREASURY_KEY_FILE) for i in range(min(TREASURY_NODES, validators))]
    if genesis_file.exists():
        existing = load_genesis(genesis_file)
        if len(existing.validators) != validators:
            raise ValueError(f"{root} holds a devnet of {len(existing.validators)} validators, not {validators}: "
                             "use another --data folder or the same --validators")
    else:
        doc = _genesis(chain_id, int(time.time() * 1000), authority_keys(root), nodes, places, treasury,
                       params or ChainParams.devnet(), stakes or [VALIDATOR_STAKE] * validators, fed_melts,
                       venue_float)
        write_atomically(genesis_file, doc.to_json(), mode=0o644)
    peers = [peer_multiaddr(HOST, ports.p2p + i, key.public_key) for i, key in enumerate(nodes)]
    homes = []
    for i in range(validators + full_nodes):
        home = root / f"node{i}"
        key = nodes[i] if i < validators else _key(home / "node.key")
        config = NodeConfig(
            node=NodeSection(data_dir=Path("data"), genesis=Path("../genesis.json"), moniker=f"devnet-{i}"),
            keys=KeysSection(node_key=Path("node.key"), place_key=Path("place.key") if i < venues else None,
                             validator=i < validators,
                             treasury_key=Path(TREASURY_KEY_FILE) if stripe is not None and i < len(treasury) else None),
            p2p=P2PSection(listen=f"/ip4/{HOST}/tcp/{ports.p2p + i}",
                           peers=tuple(peer for j, peer in enumerate(peers) if j != i), isolate_file=Path("isolate")),
            api=ApiSection(bind=f"{HOST}:{ports.api + i}"),
            metrics=MetricsSection(bind=f"{HOST}:{ports.metrics + i}"),
            stripe=StripeSection() if stripe is None else replace(stripe, payout_account=f"acct_venue{i}"),
            offline=offline or OfflineSection(),
        )
        write_atomically(home / "config.toml", dump_node_config(config), mode=0o600)  # may hold Stripe secrets
        if i < venues and not (home / POS_TOKEN_FILE).exists():
            _entry, token = create_token(tokens_path(home), f"venue-{i}", int(time.time() * 1000), label="devnet till")
            write_atomically(home / POS_TOKEN_FILE, token + "\n")
        if not (home / OPERATOR_TOKEN_FILE).exists():
            _entry, token = create_token(tokens_path(home), "", int(time.time() * 1000), role="operator",
                                         label="devnet operator")
            write_atomically(home / OPERATOR_TOKEN_FILE, token + "\n")
        homes.append(NodeHome(i, home, f"http://{HOST}:{ports.api + i}", key.public_key,
                              f"venue-{i}" if i < venues else None,
                              peer_multiaddr(HOST, ports.p2p + i, key.public_key)))
    return homes


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the devnet launcher dies, even by SIGKILL (Linux)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Devnet:
    """The node processes of a prepared devnet; a context manager that always stops them."""

    def __init__(self, homes: list[NodeHome], log_format: str = "json", extra_env: dict[str, str] | None = None):
        self.homes = homes
        self.log_format = log_format
        self.extra_env = extra_env or {}
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    def command(self, home: NodeHome) -> list[str]:
        return [sys.executable, "-m", "fedow_node.cli", "--log-format", self.log_format, "run",
                "--home", str(home.home)]

    def start(self, index: int) -> None:
        home = self.homes[index]
        log_file = open(home.home / "node.log", "ab")
        env = {**os.environ, **self.extra_env}
        self.processes[index] = subprocess.Popen(self.command(home), stdout=log_file, stderr=subprocess.STDOUT,
                                                 stdin=subprocess.DEVNULL, env=env, preexec_fn=_die_with_parent)
        log_file.close()
        log.info("devnet.node_started", node=index, pid=self.processes[index].pid, api=home.api_url)

    def start_all(self) -> None:
        for index in range(len(self.homes)):
            self.start(index)

    def kill(self, index: int) -> None:
        """SIGKILL one node (a crash), and reap it."""
        process = self.processes.pop(index)
        process.kill()
        process.wait()

    def signal(self, index: int, signum: signal.Signals) -> None:
        """Send ``signum`` to one running node (SIGSTOP/SIGCONT freeze and thaw it, as a stalled box would)."""
        self.processes[index].send_signal(signum)

    def stop(self, index: int, grace_seconds: float = 10.0) -> int:
        """SIGTERM one node, SIGKILL it after ``grace_seconds``; returns its exit code."""
        process = self.processes.pop(index)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.send_signal(signal.SIGCONT)  # a frozen node must wake up to stop
            try:
                process.wait(grace_seconds)
            except subprocess.TimeoutExpired:
                log.warning("devnet.node_killed", node=index, pid=process.pid, reason="no exit after SIGTERM")
                process.kill()
                process.wait()
        return process.returncode

    def stop_all(self) -> dict[int, int]:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        return {index: self.stop(index) for index in list(self.processes)}

    def exited(self) -> dict[int, int]:
        """Nodes that died by themselves: index -> exit code."""
        return {i: p.returncode for i, p in self.processes.items() if p.poll() is not None}

    def __enter__(self) -> "Devnet":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()
