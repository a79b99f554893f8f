"""The API as the node will run it: aiohttp on asyncio, the node on trio as a guest (fedow_node.guest).

A trio task produces blocks; submissions cross into trio through the
TrioBridge; commits reach ``?wait=commit`` waiters and the event stream through
the CommitFeed, published from trio code. ``run_guest`` owns the main thread's
loops, so this is a plain synchronous test (no asyncio.run, no pytest-trio);
a watchdog cancels everything after ``WATCHDOG_S``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Awaitable, Callable

import trio

from api_solo_node import SoloNode
from api_world import card_uid
from config import ApiSection
from fedow_node.api import build_app, create_token, start_server, tokens_path
from fedow_node.client import FedowClient
from fedow_node.guest import TrioBridge, run_guest

WATCHDOG_S = 30
BLOCK_INTERVAL_S = 0.02


class GuestNode(SoloNode):
    """SoloNode whose mempool check runs in trio, reached from asyncio through the bridge."""

    def __init__(self, home: Path, bridge: TrioBridge) -> None:
        super().__init__(home, auto_commit=False)
        self.bridge = bridge

    async def submit(self, tx: bytes) -> bytes:
        return await self.bridge.call(self._submit_in_trio, tx)

    async def _submit_in_trio(self, tx: bytes) -> bytes:
        await trio.lowlevel.checkpoint()  # this really runs in trio
        return await SoloNode.submit(self, tx)


async def produce_blocks(node: SoloNode) -> None:
    while True:
        await trio.sleep(BLOCK_INTERVAL_S)
        if node.pending:
            node.commit()  # publishes to the CommitFeed from trio code


def run_with_guest_node(tmp_path: Path, client_scenario: Callable[[FedowClient], Awaitable[dict[str, Any]]]
                        ) -> dict[str, Any]:
    """Run the node in trio and ``client_scenario`` against its API on asyncio; the scenario's result.

    As in the daemon: ``run_guest`` calls ``asyncio_setup`` first (bridge, node
    and HTTP server on the running asyncio loop), then starts trio.
    """
    shared: dict[str, Any] = {}
    result: dict[str, Any] = {}
    _entry, token = create_token(tokens_path(tmp_path), "bar", 0)

    async def trio_main(scope: trio.CancelScope) -> None:
        shared["scope"], shared["token"] = scope, trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            await nursery.start(shared["bridge"].serve)
            nursery.start_soon(produce_blocks, shared["node"])
            shared["trio_ready"].set()  # an asyncio Event set from trio: same thread
            await trio.sleep_forever()

    async def asyncio_setup() -> Callable[[], Awaitable[None]]:
        shared["bridge"] = bridge = TrioBridge(asyncio.get_running_loop())
        shared["node"] = node = GuestNode(tmp_path, bridge)
        shared["trio_ready"] = asyncio.Event()
        runner = await start_server(build_app(node, ApiSection()), "127.0.0.1:0")
        port = runner.addresses[0][1]

        async def client() -> None:
            try:
                await asyncio.wait_for(shared["trio_ready"].wait(), WATCHDOG_S)
                async with FedowClient(f"http://127.0.0.1:{port}", token) as api:
                    result.update(await asyncio.wait_for(client_scenario(api), WATCHDOG_S))
            except BaseException as exc:  # reported by the test after the loops stop
                result["error"] = exc
            finally:
                shared["token"].run_sync_soon(shared["scope"].cancel)

        client_task = asyncio.get_running_loop().create_task(client())

        async def cleanup() -> None:
            await client_task
            await runner.cleanup()
            node.close()
        return cleanup

    run_guest(trio_main, asyncio_setup)
    if "error" in result:
        raise result["error"]
    return result


def test_sales_wait_for_commits_made_by_a_trio_node(tmp_path):
    async def scenario(api: FedowClient) -> dict[str, Any]:
        await api.register_cards([(card_uid(1), "00000001", b"\1" * 16)])
        await api.refill("FED", 1000, uid=card_uid(1))
        events = api.events(card=card_uid(1))
        first_event = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.1)  # the stream is open
        sales = await asyncio.gather(*(api.sale(card_uid(1), "FED", 10 * (n + 1)) for n in range(4)))
        event = await asyncio.wait_for(first_event, 5)
        await events.aclose()
        card = await api.card(card_uid(1))
        return {"sales": sales, "event": event, "card": card}

    outcome = run_with_guest_node(tmp_path, scenario)
    assert all(sale.committed for sale in outcome["sales"])
    assert outcome["event"]["kind"] == "sale" and outcome["event"]["txid"] in {s.txid for s in outcome["sales"]}
    assert outcome["card"]["paying_wallet"]["balances"][0]["amount"] == 1000 - 100
