"""Block execution never stalls a till: the HTTP API answers while a commit or a WAL fsync is held.

A one-validator node runs in this process exactly as ``fedow-node run`` runs it
(``fedow_node.daemon.run``: asyncio serves HTTP on the main thread, trio runs the
node as its guest, blocks are executed and committed in the execution worker). The
test holds the worker inside the store's synced commit batch, then inside a durable
write-ahead-log append, each time on a ``threading.Event`` only the test sets: while
it is held, ``GET /v1/status`` must answer; once released, the till's sale answers
``committed``. A client thread drives the API and stops the node with SIGTERM at the
end. No timing assumption: every wait is on an event, with generous bounds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

from consensus.wal import FileWal, WalEntry
from fedow_node import daemon
from fedow_node.client import FedowClient
from fedow_node.devnet import free_ports, prepare_devnet
from fedow_node.node import FedowNode
from storage import CommitBatch

BOUND_S = 120.0
"""Upper bound of every wait (a loaded box may be slow; a stalled loop never answers)."""
UID = bytes.fromhex("04a1b2c3d4e5f6")


class Gate:
    """Holds the next call that ``wants`` picks until the test releases it (one call per arming)."""

    def __init__(self, wants: Callable[..., bool]) -> None:
        self.wants = wants
        self.armed = False
        self.held = threading.Event()
        self.release = threading.Event()
        self.held_on: str | None = None

    def arm(self) -> None:
        self.held.clear()
        self.release.clear()
        self.armed = True

    def pass_through(self, *args: Any) -> None:
        if self.armed and self.wants(*args):
            self.armed = False
            self.held_on = threading.current_thread().name
            self.held.set()
            self.release.wait(BOUND_S)


async def scenario(api_url: str, token: str, commit_gate: Gate, wal_gate: Gate) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    async with FedowClient(api_url, token, timeout_s=BOUND_S) as api:
        for _ in range(int(BOUND_S * 10)):  # the node starts in this process: wait for its API
            try:
                await api.status()
                break
            except OSError:
                await asyncio.sleep(0.1)
        assert (await api.register_cards([(UID, "A1B2C3D4", bytes(16))])).status == "committed"
        assert (await api.refill("FED", 1000, uid=UID)).status == "committed"
        for name, gate in (("commit", commit_gate), ("wal", wal_gate)):
            gate.arm()
            sale = asyncio.create_task(api.sale(UID, "FED", 10))
            held = await asyncio.to_thread(gate.held.wait, BOUND_S)
            try:
                assert held, f"no {name} was held: the sale never reached it"
                status = await asyncio.wait_for(api.status(), BOUND_S)  # served while the worker is held
                seen[f"{name}_status_height"] = status["height"]
                seen[f"{name}_sale_done_while_held"] = sale.done()
            finally:
                gate.release.set()
            seen[f"{name}_sale"] = (await asyncio.wait_for(sale, BOUND_S)).status
            seen[f"{name}_held_on"] = gate.held_on
    return seen


def test_the_api_answers_while_a_commit_and_a_wal_fsync_are_held(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    [home] = prepare_devnet(tmp_path, 1, free_ports(1))
    node = FedowNode.from_home(home.home)
    node.open()
    assert node.store is not None
    commit_gate = Gate(lambda batch: bool(batch.txids))  # a block with transactions (the sale's)
    wal_gate = Gate(lambda entry, durable: durable)  # our own proposal or vote, fsynced before it is sent
    real_commit, real_append = node.store.commit, FileWal.append

    def held_commit(batch: CommitBatch) -> None:
        commit_gate.pass_through(batch)
        real_commit(batch)

    def held_append(wal: FileWal, entry: WalEntry, *, durable: bool) -> None:
        wal_gate.pass_through(entry, durable)
        real_append(wal, entry, durable=durable)

    monkeypatch.setattr(node.store, "commit", held_commit)
    monkeypatch.setattr(FileWal, "append", held_append)
    outcome: dict[str, Any] = {}

    def client() -> None:
        try:
            outcome.update(asyncio.run(scenario(home.api_url, home.pos_token, commit_gate, wal_gate)))
        except BaseException as error:  # reported by the main thread
            outcome["error"] = error
        finally:
            commit_gate.release.set()
            wal_gate.release.set()
            if not stopped.is_set():
                os.kill(os.getpid(), signal.SIGTERM)  # the daemon's own clean stop

    stopped = threading.Event()
    thread = threading.Thread(target=client, name="till")
    thread.start()
    try:
        assert daemon.run(node, None) is None
    finally:
        stopped.set()
        thread.join(BOUND_S)
        node.close()
    if "error" in outcome:
        raise outcome["error"]
    main = threading.main_thread().name
    assert outcome["commit_held_on"] != main and outcome["wal_held_on"] != main  # held in the worker
    assert outcome["commit_sale_done_while_held"] is False and outcome["wal_sale_done_while_held"] is False
    assert outcome["commit_sale"] == "committed" and outcome["wal_sale"] == "committed"
    assert outcome["commit_status_height"] >= 2  # the card and the refill were committed before
