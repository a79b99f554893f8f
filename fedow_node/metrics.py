"""Prometheus metrics of one node, served on the metrics port (``[metrics] bind``).

A registry per node (not the global one), so tests can run several nodes in
one process. Gauges are refreshed from the node's state at scrape time.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.height = Gauge("fedow_height", "Last committed height", registry=self.registry)
        self.round = Gauge("fedow_round", "Round of the height in progress", registry=self.registry)
        self.mempool_txs = Gauge("fedow_mempool_txs", "Transactions waiting in the mempool", registry=self.registry)
        self.peers = Gauge("fedow_peers", "Connected libp2p peers", registry=self.registry)
        self.committed_txs = Counter("fedow_committed_txs", "Transactions committed", registry=self.registry)
        self.committed_blocks = Counter("fedow_committed_blocks", "Blocks committed", registry=self.registry)
        self.finality = Histogram("fedow_finality_seconds", "Local submission to commit, for this node's own txs",
                                  buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10),
                                  registry=self.registry)
        self.offline = Gauge("fedow_offline", "1 while the node is cut off from the network (docs/offline.md)",
                             registry=self.registry)
        self.offline_pending = Gauge("fedow_offline_pending", "Offline journal entries not yet on chain",
                                     registry=self.registry)
        self.offline_exposure = Gauge("fedow_offline_exposure", "FED (cents) of offline sales not yet on chain",
                                      registry=self.registry)
        self.offline_refused = Gauge("fedow_offline_refused", "Offline journal entries the ledger refused when "
                                     "forwarded (the operator settles them)", registry=self.registry)
        self._refresh: list[Callable[[], None]] = []

    def on_scrape(self, refresh: Callable[[], None]) -> None:
        """Run ``refresh`` before each scrape (cheap reads of live state)."""
        self._refresh.append(refresh)

    def show_offline(self, status: Mapping[str, Any]) -> None:
        """The offline gauges from the ``offline`` object of the node's status."""
        self.offline.set(1 if status["state"] == "offline" else 0)
        self.offline_pending.set(status.get("pending", 0))
        self.offline_exposure.set(status.get("exposure", 0))
        self.offline_refused.set(status.get("refused", 0))

    async def handle(self, _request: web.Request) -> web.Response:
        for refresh in self._refresh:
            refresh()
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_get("/metrics", self.handle)
        return application
