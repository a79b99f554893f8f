"""The signer never signs two different things for one height/round/step, also after a restart."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from consensus_testkit import CHAIN, make_keys

from consensus import SignerRefused, UnsafeStart, VoteType, block_id_of
from consensus.signer import FileLastSignStore, MemoryLastSignStore, Signer

KEY = make_keys(1)[0]
A, B = block_id_of(b"a"), block_id_of(b"b")


def test_conflicting_vote_is_refused_and_identical_one_is_re_served(tmp_path: Path) -> None:
    signer = Signer(KEY, CHAIN, FileLastSignStore(tmp_path / "last_sign"))
    first = signer.sign_vote(VoteType.PREVOTE, 5, 0, A, 1000)
    assert first.signature_ok(CHAIN)
    assert signer.sign_vote(VoteType.PREVOTE, 5, 0, A, 1000) == first
    assert signer.sign_vote(VoteType.PREVOTE, 5, 0, A, 2000) == first  # only the timestamp differs
    with pytest.raises(SignerRefused) as info:
        signer.sign_vote(VoteType.PREVOTE, 5, 0, B, 1000)
    assert info.value.code == "double_sign"
    with pytest.raises(SignerRefused) as info:
        signer.sign_vote(VoteType.PREVOTE, 5, 0, None, 1000)
    assert info.value.code == "double_sign"


def test_regressions_are_refused() -> None:
    signer = Signer(KEY, CHAIN, MemoryLastSignStore())
    signer.sign_vote(VoteType.PRECOMMIT, 5, 2, A, 1000)
    for height, round_, type_ in [(5, 2, VoteType.PREVOTE), (5, 1, VoteType.PRECOMMIT), (4, 9, VoteType.PRECOMMIT)]:
        with pytest.raises(SignerRefused) as info:
            signer.sign_vote(type_, height, round_, A, 1000)
        assert info.value.code == "sign_regression"
    with pytest.raises(SignerRefused):
        signer.sign_proposal(5, 2, -1, b"a")
    assert signer.sign_proposal(5, 3, -1, b"a").signature_ok(CHAIN)


def test_refusal_survives_a_restart_and_the_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "last_sign"
    before = Signer(KEY, CHAIN, FileLastSignStore(path))
    proposal = before.sign_proposal(3, 1, -1, b"block")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    after = Signer(KEY, CHAIN, FileLastSignStore(path))  # a new process
    assert after.sign_proposal(3, 1, -1, b"block") == proposal
    with pytest.raises(SignerRefused) as info:
        after.sign_proposal(3, 1, -1, b"another block")
    assert info.value.code == "double_sign" and "height 3 round 1" in info.value.detail
    with pytest.raises(SignerRefused):
        after.sign_vote(VoteType.PREVOTE, 2, 0, A, 1)


def test_validator_ahead_of_its_chain_refuses_to_start(tmp_path: Path) -> None:
    path = tmp_path / "last_sign"
    Signer(KEY, CHAIN, FileLastSignStore(path)).sign_vote(VoteType.PREVOTE, 10, 0, A, 1)
    signer = Signer(KEY, CHAIN, FileLastSignStore(path))
    signer.check_start(9)  # height 10 is the one in progress: fine
    with pytest.raises(UnsafeStart, match="already signed at height 10 but its chain is at height 8"):
        signer.check_start(8)


def test_corrupt_state_file_refuses_to_start(tmp_path: Path) -> None:
    path = tmp_path / "last_sign"
    path.write_bytes(b"\x93garbage")
    with pytest.raises(UnsafeStart, match="corrupt"):
        Signer(KEY, CHAIN, FileLastSignStore(path))
