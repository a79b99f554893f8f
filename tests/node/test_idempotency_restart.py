"""A till's retry across a node crash: same idempotency key, same txid, one sale (issue 10, item 5).

Two validators (both needed for a commit). With validator 1 stopped, a sale is
accepted by node 0 (pending in its mempool) but cannot commit, so its answer is
still owed when node 0 is SIGKILLed (a process this test started). Both nodes
restart; the till retries with the same Idempotency-Key: the node answers the
same txid, committed, and the card paid once.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from fedow_node.client import SyncFedowClient
from node_harness import Net, start_net

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

START_TIMEOUT = 120.0


def _log(net: Net, index: int) -> str:
    return net.homes[index].home.joinpath("node.log").read_text()


def test_a_sale_retried_after_sigkill_keeps_its_txid_and_is_made_once(tmp_path: Path) -> None:
    net = start_net(tmp_path / "devnet", 2)
    home = net.homes[0]
    uid = os.urandom(7)
    with net.devnet:
        net.wait_height([0, 1], 1, START_TIMEOUT)
        with SyncFedowClient(home.api_url, home.pos_token, timeout_s=60) as till:
            for submit in (lambda: till.register_cards([(uid, "AB12CD34", os.urandom(16))], timeout_ms=60_000),
                           lambda: till.refill("FED", 1_000, uid=uid, timeout_ms=60_000)):
                submission = submit()
                assert (submission.committed or till.wait_committed(submission.txid, 60.0).committed), submission
        assert net.devnet.stop(1) == 0  # no quorum from now on: nothing commits

        def first_attempt() -> None:  # its answer is lost: the node is killed while it waits for the commit
            with SyncFedowClient(home.api_url, home.pos_token, timeout_s=120) as till:
                try:
                    till.sale(uid, "FED", 250, idempotency_key="till-1:sale-42", timeout_ms=60_000)
                except Exception:  # noqa: BLE001 - the connection dies with the node
                    pass

        attempt = threading.Thread(target=first_attempt, daemon=True)
        attempt.start()
        net.wait("node 0 to sign the sale", lambda: '"retry_key": "till-1:sale-42"' in _log(net, 0), 60.0)
        txid = next(line for line in _log(net, 0).splitlines()
                    if '"retry_key": "till-1:sale-42"' in line).split('"txid": "')[1][:64]
        with SyncFedowClient(home.api_url) as reader:
            net.wait("the sale to be pending", lambda: reader.tx(txid).get("status") == "pending", 60.0)
        net.devnet.kill(0)
        attempt.join(60)

        net.devnet.start(0)
        net.devnet.start(1)
        with SyncFedowClient(home.api_url, home.pos_token, timeout_s=120) as till:
            net.wait("node 0 to serve again", lambda: net.heights([0])[0] is not None, START_TIMEOUT)
            retried = till.sale(uid, "FED", 250, idempotency_key="till-1:sale-42", timeout_ms=60_000)
            assert retried.txid == txid, (retried, txid)
            if not retried.committed:
                retried = till.wait_committed(retried.txid, 60.0)
            assert retried.committed, retried
            again = till.sale(uid, "FED", 250, idempotency_key="till-1:sale-42", timeout_ms=60_000)
            card = till.card(uid)
        assert again.txid == retried.txid and again.committed
        balances = {entry["asset"]: entry["amount"] for entry in card["paying_wallet"]["balances"]}
        assert balances["FED"] == 1_000 - 250, balances  # one sale, not two
