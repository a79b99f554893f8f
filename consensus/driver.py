"""The trio driver: one task owns the consensus node; everything reaches it through one bounded channel.

Peer messages (delivered by the Transport after :func:`decode_message`), timers
that fired, and the wake-up of an idle height when the mempool admits a
transaction enter through ``inbox``. The task hands each, one at a time, to
:meth:`Node.handle` (write-ahead log, the core's ``step``, its effects) and
performs what comes out: broadcasts through the Transport, timers as child tasks
that post back into the inbox. Nothing polls: every wait is on the channel or a
timer. Timer lengths are trio time, so tests can run on
``trio.testing.MockClock``.

``Node.start`` and ``Node.handle`` are synchronous (the WAL's and the signer's fsyncs,
block verification and execution, the commit): the driver hands each call to
``execute``, which the daemon points at its execution worker thread so the event
loop goes on serving while a block is executed and committed; one call at a time,
awaited before the next item is taken, so the order of inputs is unchanged. The
default runs them inline (the simulator, tests on a mock clock).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

import structlog
import trio

from consensus.interfaces import Transport
from consensus.node import Broadcast, Node, NodeInput, Outgoing, StartTimer, WorkAvailable

log = structlog.get_logger(__name__)

INBOX_SIZE = 1024

Execute = Callable[..., Awaitable[Any]]
"""``await execute(job, *args)``: runs the synchronous ``job(*args)`` where blocks are committed; its result."""


async def inline(job: Callable[..., Any], *args: Any) -> Any:
    """:data:`Execute` on the calling task itself."""
    return job(*args)


class Driver:
    def __init__(self, node: Node, transport: Transport, inbox_size: int = INBOX_SIZE,
                 execute: Execute = inline) -> None:
        self.node = node
        self.transport = transport
        self._execute = execute
        self._send, self._receive = trio.open_memory_channel[NodeInput](inbox_size)
        self._token: trio.lowlevel.TrioToken | None = None
        self._wake = trio.Event()
        self._wake_sent = False

    @property
    def inbox(self) -> trio.MemorySendChannel[NodeInput]:
        """Where the Transport delivers checked peer messages (``await inbox.send(message)``)."""
        return self._send

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start the node (raises ``UnsafeStart``), signal readiness, then serve the inbox until cancelled."""
        self._token = trio.lowlevel.current_trio_token()
        self.node.mempool.on_added = self._txs_added
        try:
            async with trio.open_nursery() as nursery:
                await self._step(nursery, self.node.start)
                nursery.start_soon(self._forward_wakes)
                task_status.started()
                async for item in self._receive:
                    await self._step(nursery, self.node.handle, item)
        finally:
            self.node.mempool.on_added = None

    async def _step(self, nursery: trio.Nursery, call: Callable[..., list[Outgoing]], *args: object) -> None:
        """One call of the node (``execute``), its actions; then wake the height if it went idle with work
        waiting: a transaction admitted while the worker entered that height saw it not idle yet."""
        await self._perform(await self._execute(call, *args), nursery)
        if len(self.node.mempool):
            self._txs_added()

    def _txs_added(self) -> None:
        """Mempool hook, called on the event loop (HTTP API, gossip): wake an idle height.

        ``run_sync_soon`` is the one thread-safe way into trio that also wakes it when it is
        blocked on I/O; it is used only while the node waits for work, once per wake-up.
        """
        if self.node.waiting_for_work and not self._wake_sent and self._token is not None:
            self._wake_sent = True
            self._token.run_sync_soon(self._wake.set)

    async def _forward_wakes(self) -> None:
        while True:
            await self._wake.wait()
            await self._send.send(WorkAvailable())
            self._wake = trio.Event()
            self._wake_sent = False

    async def _perform(self, outgoing: list[Outgoing], nursery: trio.Nursery) -> None:
        for action in outgoing:
            if isinstance(action, Broadcast):
                await self.transport.broadcast(action.message)
            else:
                nursery.start_soon(self._timer, action)

    async def _timer(self, action: StartTimer) -> None:
        await trio.sleep(action.delay_ms / 1000)
        await self._send.send(action.event)
