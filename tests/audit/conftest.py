"""One sample chain per test session, copied by each test that tampers with it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fedow_node.audit import SampleChain, build_sample_chain

SAMPLE_BLOCKS = 4
SAMPLE_BLOCK_TXS = 40


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleChain:
    """Height 5: block 1 registers 20 cards, blocks 2-5 hold 40 sales each."""
    return build_sample_chain(tmp_path_factory.mktemp("sample") / "data", blocks=SAMPLE_BLOCKS,
                              block_txs=SAMPLE_BLOCK_TXS, cards=20)


_TESTS = Path(__file__).resolve().parent.parent
for helpers in ("api", "treasury", "payments"):  # the Stripe reconciliation runs the payments' node world
    if str(_TESTS / helpers) not in sys.path:
        sys.path.append(str(_TESTS / helpers))
