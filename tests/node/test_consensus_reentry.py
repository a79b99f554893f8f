"""A node that falls behind leaves consensus, syncs, and comes back, any number of times (issue 10, item 1).

Real processes on 127.0.0.1: validator 0 holds 3/4 of the stake (it commits
alone), validator 1 the rest, node 2 is a full node. In each of three rounds,
the full node, then validator 1, is frozen (SIGSTOP, processes this test
started) while validator 0 commits past it, then thawed (SIGCONT); it must
come back and keep committing, and each must have left consensus and come back. Before the fix the second entry into consensus
stopped the node (``already_subscribed``). Three processes only, and every
wait is on an observed height or log line with generous bounds: nothing here
depends on the machine's speed.
"""

from __future__ import annotations

import signal
from dataclasses import replace
from pathlib import Path

import pytest

from config import ChainParams
from node_harness import Net, start_net

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

START_TIMEOUT = 120.0
STEP_TIMEOUT = 180.0
ROUNDS = 3
LEADER, VALIDATOR, FULL = 0, 1, 2


def _log(net: Net, index: int) -> str:
    return net.homes[index].home.joinpath("node.log").read_text()


def _count(net: Net, index: int, event: str) -> int:
    return _log(net, index).count(f'"event": "{event}"')


def _height(net: Net, index: int) -> int:
    """The node's height, asking again while its API does not answer (a loaded box can be slow)."""
    seen: list[int] = []
    net.wait(f"node {index} to answer its status",
             lambda: (h := net.heights([index])[index]) is not None and not seen.append(h), STEP_TIMEOUT)
    return seen[0]


def _pause_past(net: Net, index: int, blocks: int) -> None:
    """Freeze node ``index`` until the leader committed ``blocks`` more, then thaw it."""
    frozen_at = _height(net, index)
    net.devnet.signal(index, signal.SIGSTOP)
    try:
        net.wait_height([LEADER], frozen_at + blocks, STEP_TIMEOUT)
    finally:
        net.devnet.signal(index, signal.SIGCONT)


def _keeps_committing(net: Net, index: int) -> None:
    head = _height(net, LEADER)
    net.wait_height([index, LEADER], head + 3, STEP_TIMEOUT)


def test_validators_and_full_nodes_fall_behind_sync_and_come_back_repeatedly(tmp_path: Path) -> None:
    # A block every 300 ms or so: a node syncing on a loaded machine must be able to overtake the leader.
    params = replace(ChainParams.devnet(), timeout_commit_ms=300, heartbeat_ms=300)
    net = start_net(tmp_path / "devnet", 2, full_nodes=1, params=params, stakes=[300_000, 100_000])
    with net.devnet:
        net.devnet.start(FULL)
        net.wait_height([LEADER, VALIDATOR, FULL], 2, START_TIMEOUT)
        for round_ in range(1, ROUNDS + 1):
            # The full node sends no votes: block sync brings it back (unless it was already syncing,
            # or the decided blocks pushed to a late validator reach it too). 30 blocks, not 10: a node
            # paused for a few blocks may catch up from the gossip queued for it and never leave consensus.
            _pause_past(net, FULL, 30)
            _keeps_committing(net, FULL)
            # The validator may come back by block sync or by the decided blocks its peers push it.
            _pause_past(net, VALIDATOR, 30)
            _keeps_committing(net, VALIDATOR)
        # Each left consensus and came back at least once (in practice at every pause).
        for index in (VALIDATOR, FULL):
            assert _count(net, index, "node.fallen_behind") >= 1, index
            assert _count(net, index, "consensus_started") >= 2, index
        nodes = [LEADER, VALIDATOR, FULL]
        net.assert_same_chain(nodes, min(_height(net, index) for index in nodes), step=7)
        assert net.devnet.exited() == {}
        for index in (VALIDATOR, FULL):
            assert "already_subscribed" not in _log(net, index)
