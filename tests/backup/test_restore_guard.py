"""The restore guard decides when a restored validator may sign again; the signer's fence holds it to that."""

from __future__ import annotations

from pathlib import Path

import pytest

from consensus.certificate import Certificate, CommitSig, encode_certificate
from consensus.errors import SignerRefused
from consensus.messages import VoteType
from consensus.signer import FileLastSignStore, LastSign, Signer, fence_last_sign
from fedow_node.restore_guard import CLOCK_MARGIN_MS, MARKER_FILE, Probation, RestoreGuard, ValidatorKeyInUse
from wallet.keys import SigningKey

RESTORED_MS = 1_800_000_000_000
OURS, OTHER = b"\x01" * 32, b"\x02" * 32


def certificate(*validators: bytes) -> Certificate:
    return Certificate(7, 0, b"\x00" * 32, tuple(CommitSig(v, RESTORED_MS, b"\x00" * 64) for v in validators))


@pytest.mark.parametrize("time_ms, signers, expected", [
    (RESTORED_MS - 60_000, (OTHER,), None),                  # decided before the restore: keep observing
    (RESTORED_MS - 60_000, (OURS, OTHER), None),             # ... even with our former self's precommit
    (RESTORED_MS + 1, (OTHER,), None),                       # within the clock margin: not yet
    (RESTORED_MS + CLOCK_MARGIN_MS, (OTHER,), None),
    (RESTORED_MS + CLOCK_MARGIN_MS + 1, (OTHER,), 7),        # surely after: fence through this height
    (RESTORED_MS + CLOCK_MARGIN_MS + 1, None, 7),            # (a block without a certificate yet)
])
def test_release_height(tmp_path: Path, time_ms: int, signers: tuple[bytes, ...] | None, expected: int | None) -> None:
    guard = RestoreGuard.place(tmp_path, RESTORED_MS)
    assert guard.release_height(7, time_ms, None if signers is None else certificate(*signers), OURS) == expected


@pytest.mark.parametrize("time_ms", [RESTORED_MS + 1, RESTORED_MS + CLOCK_MARGIN_MS + 1])
def test_our_precommit_in_a_block_made_after_the_restore_means_a_twin(tmp_path: Path, time_ms: int) -> None:
    guard = RestoreGuard.place(tmp_path, RESTORED_MS)
    with pytest.raises(ValidatorKeyInUse, match="another node still runs with this key"):
        guard.release_height(7, time_ms, certificate(OURS, OTHER), OURS)


def test_the_marker_round_trips_and_a_damaged_one_is_named(tmp_path: Path) -> None:
    assert RestoreGuard.load(tmp_path) is None
    RestoreGuard.place(tmp_path, RESTORED_MS)
    assert RestoreGuard.load(tmp_path) == RestoreGuard(tmp_path / MARKER_FILE, RESTORED_MS)
    (tmp_path / MARKER_FILE).write_text("{")
    with pytest.raises(ValueError, match="restored from a backup"):
        RestoreGuard.load(tmp_path)


def test_the_fence_refuses_every_vote_at_or_below_its_height_and_never_moves_back(tmp_path: Path) -> None:
    store = FileLastSignStore(tmp_path / "last_sign_state")
    key = SigningKey.generate()
    store.save(LastSign(3, 0, 2, b"old", b"sig"))  # the backup's (stale) state
    fence_last_sign(store, 9)
    fence_last_sign(store, 5)  # an older fence changes nothing
    signer = Signer(key, "chain", store)
    for height, round_ in ((9, 0), (9, 1_000), (4, 0)):
        with pytest.raises(SignerRefused):
            signer.sign_vote(VoteType.PREVOTE, height, round_, b"\x00" * 32, RESTORED_MS)
    signer.check_start(9)
    vote = signer.sign_vote(VoteType.PREVOTE, 10, 0, b"\x00" * 32, RESTORED_MS)
    assert vote.height == 10 and store.load().hrs == (10, 0, 2)


def test_probation_fences_the_signer_and_removes_the_marker(tmp_path: Path) -> None:
    RestoreGuard.place(tmp_path, RESTORED_MS)
    probation = Probation.load(tmp_path, tmp_path / "last_sign_state", OURS)
    assert probation is not None and probation.active
    probation.on_commit(6, RESTORED_MS + 1, None)
    assert probation.active and (tmp_path / MARKER_FILE).exists()
    probation.on_commit(7, RESTORED_MS + CLOCK_MARGIN_MS + 1, None)
    assert not probation.active and not (tmp_path / MARKER_FILE).exists()
    assert FileLastSignStore(tmp_path / "last_sign_state").load().height == 7
    assert Probation.load(tmp_path, tmp_path / "last_sign_state", OURS) is None


def test_probation_records_a_twin_and_stays_unsigned(tmp_path: Path) -> None:
    RestoreGuard.place(tmp_path, RESTORED_MS)
    probation = Probation.load(tmp_path, tmp_path / "last_sign_state", OURS)
    assert probation is not None
    probation.on_commit(7, RESTORED_MS + CLOCK_MARGIN_MS + 1, encode_certificate(certificate(OURS, OTHER)))
    assert isinstance(probation.error, ValidatorKeyInUse) and probation.active
    assert (tmp_path / MARKER_FILE).exists() and not (tmp_path / "last_sign_state").exists()
