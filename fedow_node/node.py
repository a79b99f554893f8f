"""One venue's node: storage, the ledger application, p2p, block sync, consensus (fedow_node/daemon.py adds HTTP).

:class:`FedowNode` owns every long-lived task in one trio nursery (structured
concurrency: when one fails or SIGTERM arrives, all stop, and the store is closed
last). Order at start: open the store (writing genesis on first start), start
p2p, catch up with the peers by block sync, then join consensus. A node that
later falls far behind (a peer is more than a few heights ahead) leaves consensus,
syncs, and joins again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import structlog
import trio

import wallet
from config import ConfigError, GenesisDoc, NodeConfig, Problem, load_genesis, load_node_config
from consensus import ConsensusParams
from consensus.driver import Driver
from consensus.evidence import EvidencePool
from consensus.mempool import Mempool
from consensus.node import Node, NodeConfig as ConsensusNodeConfig
from consensus.signer import FileLastSignStore, Signer
from consensus.wal import FileWal
from fedow_node.engine.application import LedgerApplication
from fedow_node.engine.commits import CommitChannel, CommittedBlock
from fedow_node.engine.gossip import ConsensusGossip, TxGossip
from fedow_node.engine.worker import ExecutionWorker
from fedow_node.metrics import NodeMetrics
from fedow_node.offline import OfflineService, open_offline
from fedow_node.reader import CardReaderHub, reader_config
from fedow_node.restore_guard import Probation
from fedow_node.engine.sync import BlockSyncer, SyncServer, protocol_id
from fedow_node.payments import StripeVerifier
from fedow_node.treasury import P2PTreasuryNetwork, TreasuryCosigner, TreasuryGatherer, TreasuryServer
from fedow_node.treasury import protocol_id as treasury_protocol_id
from p2p import P2PConfig, P2PNode
from storage import CommittedState, GenesisMismatch, Store, genesis_state_hash
from wallet.keys import SigningKey, read_key_file
from wallet.protocol import protocol_state

log = structlog.get_logger(__name__)

CATCH_UP_CHECK_SECONDS = 3.0
FALLEN_BEHIND_BLOCKS = 3
"""A peer this many heights ahead means consensus gossip cannot catch us up fast enough: block-sync."""


class WallClock:
    """consensus.Clock: the local time stamps votes only; block time comes from the votes."""

    def now_ms(self) -> int:
        return int(time.time() * 1000)


@dataclass(frozen=True)
class NodeFiles:
    """Where a node keeps what it must not lose, under its data folder."""

    data_dir: Path

    @property
    def store(self) -> Path:
        return self.data_dir / "chain"

    @property
    def wal(self) -> Path:
        return self.data_dir / "consensus.wal"

    @property
    def last_sign(self) -> Path:
        return self.data_dir / "last_sign_state"

    @property
    def idempotency(self) -> Path:
        """The POS API's idempotency keys (fedow_node/api/idempotency.py), beside the chain."""
        return self.data_dir / "idempotency.sqlite"

    @property
    def offline_journal(self) -> Path:
        """What the tills did while the node was cut off (fedow_node/offline/journal.py), beside the chain."""
        return self.data_dir / "offline.sqlite"


def open_store(files: NodeFiles, genesis: GenesisDoc) -> Store:
    """Open the chain store, writing the genesis state on first start; refuse another chain's data."""
    store = Store.open(files.store)
    if not store.initialised:
        state = wallet.genesis_state(genesis)
        store.init_genesis(genesis.canonical_bytes(), state, genesis_state_hash(state))
    elif store.genesis_doc() != genesis.canonical_bytes():
        store.close()
        raise GenesisMismatch(f"{files.store} holds another chain than the genesis file describes")
    return store


def _listen(multiaddr: str) -> tuple[str, int]:
    parts = multiaddr.strip("/").split("/")
    return parts[1], int(parts[3])


class FedowNode:
    """A full node (validator when configured so) for one home folder."""

    def __init__(self, home: Path, config: NodeConfig, genesis: GenesisDoc, node_key: SigningKey,
                 place_key: SigningKey | None, treasury_key: SigningKey | None = None) -> None:
        if treasury_key is not None and not config.stripe.secret_key:
            raise ConfigError("bad_config", [Problem("stripe.secret_key", "this node holds a treasury key "
                                                         "([keys] treasury_key): it verifies every FED mint and "
                                                         "payout at Stripe itself, so it needs Stripe's secret key")])
        self.home = home
        self.config = config
        self.genesis = genesis
        self.node_key = node_key
        self.place_key = place_key
        self.treasury_key = treasury_key
        self.files = NodeFiles(config.node.data_dir)
        self.metrics = NodeMetrics()
        self.store: Store | None = None
        self.app: LedgerApplication | None = None
        self.consensus: Node | None = None
        self.mempool: Mempool | None = None
        self.commits: CommitChannel | None = None
        """Every committed block with what the mempool dropped after it; the daemon's one reader hands them on."""
        self.worker = ExecutionWorker()
        """The one thread where consensus and block sync execute, fsync and commit (off the event loop)."""
        self.network: P2PNode | None = None
        self.txs: TxGossip | None = None
        self.consensus_gossip: ConsensusGossip | None = None
        self.card_reader: CardReaderHub | None = None
        self.treasury: TreasuryGatherer | None = None
        """Gathers the treasury's signatures of FED mints and burns (any node; runs on trio)."""
        self.offline: OfflineService | None = None
        """Watches whether the node is cut off; its tills then sell offline (docs/offline.md)."""
        self.probation: Probation | None = None
        """A validator restored from a backup, observing until it may sign (fedow_node/restore_guard.py)."""

    @classmethod
    def from_home(cls, home: Path) -> "FedowNode":
        config = load_node_config(home / "config.toml")
        place_key = read_key_file(config.keys.place_key) if config.keys.place_key else None
        treasury_key = read_key_file(config.keys.treasury_key) if config.keys.treasury_key else None
        return cls(home, config, load_genesis(config.node.genesis), read_key_file(config.keys.node_key), place_key,
                   treasury_key)

    @property
    def chain_id(self) -> str:
        return self.genesis.chain_id

    def status(self) -> dict[str, object]:
        """What `fedow-node status` and GET /v1/status show: the chain as of one commit (one snapshot); the
        round as the consensus core's last state (an immutable value, swapped whole by the worker)."""
        assert self.store is not None
        committed = self.store.committed
        consensus = self.consensus
        state = consensus.state if consensus else None
        return {
            "chain_id": self.chain_id,
            "moniker": self.config.node.moniker,
            "validator": self.config.keys.validator,
            "public_key": self.node_key.public_key.hex(),
            "height": committed.height,
            "state_hash": committed.state_hash.hex(),
            "round": state.round if state else None,
            "mempool_txs": len(self.mempool) if self.mempool else 0,
            "peers": len(self.network.connected_peers()) if self.network else 0,
            "peer_id": self.network.peer_id if self.network else None,
            "stripe": "configured" if self.config.stripe.secret_key and self.config.stripe.webhook_secret else "off",
            **self._protocol_status(committed),
            "treasury_key": None if self.treasury_key is None else self.treasury_key.public_key.hex(),
        }

    def _protocol_status(self, committed: CommittedState) -> dict[str, object]:
        assert self.app is not None
        protocol = protocol_state(committed)
        upgrade = {"version": protocol.next_version, "height": protocol.next_height} if protocol.next_height else None
        return {"protocol_version": protocol.version, "upgrade": upgrade,
                "software_protocol_versions": sorted(self.app.known_versions)}

    def open(self) -> None:
        """Open the store (writing genesis on first start) and build the application and mempool.

        Synchronous and before any event loop, so the HTTP API can be wired to them.
        """
        self.files.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = open_store(self.files, self.genesis)
        self.app = LedgerApplication(self.store, self.chain_id, self.genesis.genesis_time_ms)
        self.app.commits = self.commits = CommitChannel(self.store, self.chain_id)
        self.app.protocol_version(self.store.height + 1)  # a release too old for this chain stops before it starts
        if self.config.keys.validator:
            self.probation = Probation.load(self.files.data_dir, self.files.last_sign, self.node_key.public_key)
        self.mempool = Mempool(self.app.check_tx, self.config.mempool.max_txs, self.config.mempool.max_bytes,
                               self.app.params.max_tx_bytes)
        self.mempool.on_update = self.commits.mempool_updated
        host, port = _listen(self.config.p2p.listen)
        self.network = P2PNode(P2PConfig(seed=self.node_key.seed, listen_host=host, listen_port=port,
                                         static_peers=self.config.p2p.peers,
                                         max_message_bytes=self.config.p2p.max_message_bytes,
                                         isolate_file=self.config.p2p.isolate_file))
        self.txs = TxGossip(self.network, self.chain_id, self.mempool, max_tx_bytes=self.app.params.max_tx_bytes,
                            signatures_verify=self.app.signatures_verify)
        app = self.app
        self.consensus_gossip = ConsensusGossip(self.network, self.chain_id, lambda: app.params.max_block_bytes)
        self.metrics.on_scrape(self._refresh_metrics)
        if self.config.reader.enabled:
            self.card_reader = CardReaderHub(reader_config(self.config.reader), self.store)
        cosigner = None
        if self.treasury_key is not None:
            stripe = self.config.stripe
            cosigner = TreasuryCosigner(self.treasury_key, self.chain_id, self.store,
                                        StripeVerifier(stripe.secret_key.reveal(), stripe.api_base or None))
        self.treasury = TreasuryGatherer(self.chain_id, self.store, P2PTreasuryNetwork(self.network, self.chain_id),
                                         cosigner)
        self.offline = open_offline(self.config.offline, self.files.offline_journal, self.app, self.network,
                                    self.txs, self.mempool.contains_txid,
                                    self.node_key.public_key if self.config.keys.validator else None, self.place_key)
        offline = self.offline
        self.metrics.on_scrape(lambda: self.metrics.show_offline(offline.status()))

    def close(self) -> None:
        if self.offline is not None and self.offline.journal is not None:
            self.offline.journal.close()
        if self.store is not None:
            log.info("node.stopped", height=self.store.height)
            self.store.close()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve p2p, sync and consensus until cancelled; call :meth:`open` first."""
        assert self.treasury is not None
        try:
            await self._serve(task_status)
        finally:
            if self.treasury.local is not None:  # its Stripe client
                with trio.CancelScope(shield=True):
                    await self.treasury.local.aclose()

    async def _serve(self, task_status: trio.TaskStatus[None]) -> None:
        assert self.store is not None and self.network is not None and self.txs is not None and self.app
        assert self.consensus_gossip is not None and self.treasury is not None
        assert self.commits is not None
        self.commits.bind(trio.lowlevel.current_trio_token())  # commits made in the worker reach it through trio
        async with trio.open_nursery() as nursery:
            await nursery.start(self.network.run)
            self.network.set_handler(protocol_id(self.chain_id), SyncServer(self.app, self.network).handle)
            if self.treasury.local is not None:
                self.network.set_handler(treasury_protocol_id(self.chain_id),
                                         TreasuryServer(self.treasury.local, self.network).handle)
            nursery.start_soon(self.txs.run)
            nursery.start_soon(self.consensus_gossip.run)
            if self.offline is not None:
                nursery.start_soon(self.offline.run)
            if self.card_reader is not None:
                nursery.start_soon(self.card_reader.run)
            log.info("node.started", chain_id=self.chain_id, height=self.store.height, peer_id=self.network.peer_id,
                     validator=self.config.keys.validator)
            task_status.started()
            await self._wait_for_peers()
            while True:
                await self._sync_until_caught_up()
                await self._run_consensus_until_behind()

    async def _wait_for_peers(self) -> None:
        assert self.network is not None
        with trio.move_on_after(3):
            while self.config.p2p.peers and not self.network.connected_peers():
                await trio.sleep(0.05)

    async def _sync_until_caught_up(self) -> None:
        assert self.app is not None and self.network is not None
        syncer = BlockSyncer(self.app, self.network, self.mempool, self.worker.run)
        while (await syncer.run_once()).blocks:
            pass

    async def _run_consensus_until_behind(self) -> None:
        """Run consensus; return when a peer is far enough ahead that block sync must take over."""
        assert self.app is not None and self.network is not None and self.mempool is not None
        assert self.consensus_gossip is not None
        observing = self.probation is not None and self.probation.active
        signer = (Signer(self.node_key, self.chain_id, FileLastSignStore(self.files.last_sign))
                  if self.config.keys.validator and not observing else None)
        params = ConsensusParams.from_chain_params(self.app.params)
        wal = FileWal(self.files.wal)
        self.consensus = Node(ConsensusNodeConfig(self.chain_id, params), self.app, WallClock(), wal, self.mempool,
                              EvidencePool(params.evidence_max_age_blocks), signer)
        driver = Driver(self.consensus, self.consensus_gossip, execute=self.worker.run)
        try:
            with self.consensus_gossip.attached(driver.inbox):
                async with trio.open_nursery() as nursery:
                    await nursery.start(driver.run)
                    await self._watch_for_lag(observing)
                    nursery.cancel_scope.cancel()
        finally:
            wal.close()
            self.consensus = None

    async def _watch_for_lag(self, observing: bool) -> None:
        """Return when block sync must take over, or when a restored validator may sign again (to rejoin with
        its signer); raise when its key turns out to be in use by another node."""
        assert self.app is not None and self.network is not None
        syncer = BlockSyncer(self.app, self.network)
        while True:
            await trio.sleep(CATCH_UP_CHECK_SECONDS)
            if self.probation is not None and self.probation.error is not None:
                raise self.probation.error
            if observing and self.probation is not None and not self.probation.active:
                return
            best = await syncer.best_peer()
            if best is not None and best[1] >= self.app.store.height + FALLEN_BEHIND_BLOCKS:
                log.info("node.fallen_behind", height=self.app.store.height, peer_height=best[1])
                return

    def committed(self, block: CommittedBlock) -> None:
        """A block from the channel of commits: the restore guard and the metrics count it."""
        if self.probation is not None and self.store is not None:
            self.probation.on_commit(block.height, block.time_ms, self.store.certificate(block.height))
        self.metrics.committed_blocks.inc()
        self.metrics.committed_txs.inc(len(block.txs))

    def _refresh_metrics(self) -> None:
        status = self.status()
        self.metrics.height.set(status["height"])  # type: ignore[arg-type]
        self.metrics.round.set(status["round"] or 0)  # type: ignore[arg-type]
        self.metrics.mempool_txs.set(status["mempool_txs"])  # type: ignore[arg-type]
        self.metrics.peers.set(status["peers"])  # type: ignore[arg-type]
