"""Protocol versions: scheduled by k of n authorities, in force from their height, carried by block headers."""

from __future__ import annotations

import hashlib

import pytest
from ledger_world import AUTHORITIES, Chain, rejected_code

from wallet.block import decode_block, make_block
from wallet.codec import pack, unpack
from wallet.errors import Rejected
from wallet.protocol import protocol_state, version_at
from wallet.records import ProtocolState

GOLDEN_V1 = "2254e2373b7838b1d1e9741e8cb36dcd8164a051650cc966280c06f78c011271"
"""sha256 of the example block under version 1: the bytes the block format had before versions existed."""
GOLDEN_V2 = "11d5afc6fe9b84efe60f9243fd058530aac19b1ab5f6ac94281d142263cd1aec"
"""The same block under version 2: ten header fields, the version last."""


def example_block(version: int) -> bytes:
    return make_block(chain_id="fedow-golden", height=7, time_ms=1_767_225_600_000, prev_block_hash=bytes(range(32)),
                      proposer=b"\x07" * 32, txs=[b"tx-one", b"tx-two"], state_hash=b"\x05" * 32,
                      last_commit=b"certificate", evidence=[], version=version).encode()


def test_a_version_1_block_keeps_its_bytes_and_a_version_2_header_carries_its_version() -> None:
    v1, v2 = example_block(1), example_block(2)
    assert hashlib.sha256(v1).hexdigest() == GOLDEN_V1
    assert hashlib.sha256(v2).hexdigest() == GOLDEN_V2
    assert len(unpack(v1)[0]) == 9 and unpack(v2)[0] == [*unpack(v1)[0], 2]
    for raw, version in ((v1, 1), (v2, 2)):
        block = decode_block(raw, chain_id="fedow-golden", max_bytes=10_000)
        assert block.header.version == version and block.encode() == raw


@pytest.mark.parametrize("tenth", [1, 0, True, "2", None])
def test_a_tenth_header_field_is_a_version_from_2_on(tenth: object) -> None:
    header, *rest = unpack(example_block(1))
    with pytest.raises(Rejected) as refused:
        decode_block(pack([[*header, tenth], *rest]), chain_id="fedow-golden", max_bytes=10_000)
    assert refused.value.code == "bad_block"


def test_k_of_n_authorities_schedule_an_upgrade_in_force_from_its_height() -> None:
    chain = Chain.start()
    assert protocol_state(chain.state) == ProtocolState(1, 0, 0) and version_at(chain.state, 1) == 1
    chain.block(chain.govern("schedule_upgrade", 2, 5))
    assert protocol_state(chain.state) == ProtocolState(1, 2, 5)
    assert (version_at(chain.state, 4), version_at(chain.state, 5), version_at(chain.state, 9)) == (1, 2, 2)
    while chain.height < 4:
        chain.block()
    assert protocol_state(chain.state) == ProtocolState(1, 2, 5)
    chain.block()  # height 5: the begin-block switches
    assert protocol_state(chain.state) == ProtocolState(2, 0, 0) and version_at(chain.state, 6) == 2


def test_a_later_schedule_replaces_a_pending_one() -> None:
    chain = Chain.start()
    chain.block(chain.govern("schedule_upgrade", 2, 50))
    chain.block(chain.govern("schedule_upgrade", 3, 20))
    assert protocol_state(chain.state) == ProtocolState(1, 3, 20)


@pytest.mark.parametrize("height", [1, 2])
def test_an_upgrade_must_be_ahead_of_its_block(height: int) -> None:
    chain = Chain.start()
    chain.block()
    assert rejected_code(chain, chain.govern("schedule_upgrade", 2, height)) == "bad_upgrade"


def test_versions_start_at_2() -> None:
    chain = Chain.start()
    with pytest.raises(Rejected) as refused:
        chain.govern("schedule_upgrade", 1, 10)
    assert "version" in refused.value.detail


def test_one_authority_cannot_schedule_an_upgrade() -> None:
    chain = Chain.start()
    assert rejected_code(chain, chain.cosigned(AUTHORITIES[:1], "schedule_upgrade", 2, 10)) == "below_threshold"


def test_a_version_at_or_below_the_chains_is_refused() -> None:
    chain = Chain.start()
    chain.block(chain.govern("schedule_upgrade", 2, 3))
    chain.block()
    chain.block()  # height 3: version 2 in force
    assert rejected_code(chain, chain.govern("schedule_upgrade", 2, 10)) == "bad_upgrade"

