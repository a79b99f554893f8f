"""One process, two event loops: asyncio hosts aiohttp, trio runs the node as a guest.

trio's guest mode (notes/trio-and-aiohttp.md, recommended there) keeps both
loops on the main thread, so HTTP handlers may read the node's state without
locks. A handler that must *await* trio-side work (submit a transaction and wait
for its commit) goes through :meth:`TrioBridge.call`, which starts the work in a
trio nursery and resolves an asyncio future when it is done.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any, Awaitable, Callable, TypeVar

import outcome
import structlog
import trio

log = structlog.get_logger(__name__)
T = TypeVar("T")


class TrioBridge:
    """Lets asyncio code await trio coroutines running in the guest trio loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._token: trio.lowlevel.TrioToken | None = None
        self._nursery: trio.Nursery | None = None

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run inside trio: owns the nursery that bridged calls run in."""
        async with trio.open_nursery() as nursery:
            self._token = trio.lowlevel.current_trio_token()
            self._nursery = nursery
            task_status.started()
            await trio.sleep_forever()

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """From asyncio: run ``fn(*args)`` in trio and await its result (or exception)."""
        if self._token is None or self._nursery is None:
            raise RuntimeError("the trio side of the node is not running")
        future: asyncio.Future[T] = self._loop.create_future()

        def deliver(result: outcome.Outcome) -> None:
            if future.cancelled():
                return
            if isinstance(result, outcome.Error):
                future.set_exception(result.error)
            else:
                future.set_result(result.value)

        async def run() -> None:
            result = await outcome.acapture(fn, *args)
            self._loop.call_soon_threadsafe(deliver, result)

        nursery = self._nursery
        self._token.run_sync_soon(lambda: nursery.start_soon(run))
        return await future


def run_guest(trio_main: Callable[[trio.CancelScope], Awaitable[None]],
              asyncio_setup: Callable[[], Awaitable[Callable[[], Awaitable[None]]]] | None = None) -> None:
    """Run ``trio_main`` as a trio guest of an asyncio loop until it returns or SIGTERM/SIGINT.

    ``trio_main`` receives the cancel scope that a signal cancels (clean
    shutdown). ``asyncio_setup`` starts asyncio-side services (the HTTP API)
    and returns their async clean-up, awaited after trio has finished.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    done: asyncio.Future[outcome.Outcome] = loop.create_future()
    scope = trio.CancelScope()

    def stop(signum: int) -> None:
        log.info("node.signal", signal=signal.Signals(signum).name)
        trio_token.run_sync_soon(scope.cancel)

    async def trio_entry() -> None:
        nonlocal trio_token
        trio_token = trio.lowlevel.current_trio_token()
        with scope:
            await trio_main(scope)

    trio_token: trio.lowlevel.TrioToken

    async def host() -> None:
        cleanup = await asyncio_setup() if asyncio_setup is not None else None
        trio.lowlevel.start_guest_run(
            trio_entry,
            run_sync_soon_threadsafe=loop.call_soon_threadsafe,
            done_callback=done.set_result,
            host_uses_signal_set_wakeup_fd=True,
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop, signum)
        try:
            result = await done
        finally:
            if cleanup is not None:
                await cleanup()
        result.unwrap()

    try:
        loop.run_until_complete(host())
    finally:
        loop.close()
