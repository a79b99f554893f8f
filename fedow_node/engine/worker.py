"""The node's execution worker: where blocks are verified, executed, fsynced and committed, off the event loop.

The main thread runs asyncio (the HTTP API) with trio as its guest (p2p, gossip,
the consensus driver). Everything synchronous that changes the node's state, and
the fsyncs that make it durable, run here instead: the consensus host's
``Node.start`` / ``Node.handle`` (write-ahead log, signer, block verification and
execution, the commit's synced LevelDB batch, the mempool's pass after it) and
block sync's application of decided blocks. One job at a time, in the order they
were asked for (a ``CapacityLimiter`` of one is FIFO), so the order of the core's
inputs and of the commits is what it was inline; meanwhile the loop serves the
tills and the peers. A job is never abandoned half-way: cancelling the caller
waits for the job to end (trio's default for threads).

What the main thread reads while a job runs is made safe where it lives
(docs/consensus.md, "Execution off the event loop").
"""

from __future__ import annotations

from typing import Callable, TypeVar

import trio

__all__ = ["ExecutionWorker", "SWITCH_INTERVAL_S"]

T = TypeVar("T")

SWITCH_INTERVAL_S = 0.001
"""How often CPython hands the GIL to another thread (``sys.setswitchinterval``; its default is 5 ms).

The worker and the event loop share the GIL: while a block executes, every wake-up of the loop
(a p2p read, an HTTP request) waits for the worker to hand it over, and py-libp2p wakes many times
per message (noise, yamux, pubsub). With 5 ms a loaded node's consensus messages crawled (the
convoy effect: rounds timed out, sales stayed pending); 1 ms keeps the loop responsive, 0.2 ms
costs more in switches than it saves (docs/performance.md, "Execution off the event loop")."""


class ExecutionWorker:
    """Runs synchronous jobs one at a time, in order, in a worker thread."""

    def __init__(self) -> None:
        self._limiter = trio.CapacityLimiter(1)

    async def run(self, job: Callable[..., T], *args: object) -> T:
        """Run ``job(*args)`` in the worker thread once the jobs asked for before it are done; its result."""
        return await trio.to_thread.run_sync(job, *args, limiter=self._limiter)
