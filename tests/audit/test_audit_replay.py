"""fedow-node audit on a clean chain and on copies tampered with in every way the brief names."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from audit_tamper import (block_key, certificate_key, certify, copy_data, raw_db, read_block,
                          recertify_last_block)

import wallet
from fedow_node.audit import SampleChain
from fedow_node.cli import main
from storage import layout as store_layout
from wallet import layout
from wallet.codec import pack, unpack
from wallet.keys import SigningKey
from wallet.records import Balance

TAMPERED_HEIGHT = 3
JOBS = ["1", "2", "2/threads"]
"""Signature jobs (processes unless named): every fault is found the same way whatever runs the checks."""


def jobs_args(jobs: str) -> list[str]:
    count, _, workers = jobs.partition("/")
    return ["--jobs", count, *(["--workers", workers] if workers else [])]


def run_audit(capsys: pytest.CaptureFixture[str], data: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["--log-level", "error", "audit", "--data", str(data), "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def assert_fails(capsys: pytest.CaptureFixture[str], data: Path, height: int | None, code: str,
                 *, jobs: str = "2") -> str:
    exit_code, report = run_audit(capsys, data, *jobs_args(jobs))
    assert exit_code == 1, report
    assert report["ok"] is False
    assert (report["height"], report["code"]) == (height, code), report
    if height is not None:
        assert f"height {height}" in report["error"]
    return report["error"]


@pytest.mark.parametrize("jobs", JOBS)
def test_a_clean_chain_audits_ok_with_every_count_right(capsys, sample: SampleChain, jobs: str) -> None:
    exit_code, report = run_audit(capsys, sample.files.data_dir, *jobs_args(jobs))
    assert exit_code == 0, report
    assert report["ok"] is True and report["error"] is None
    assert report["blocks"] == report["height"] == sample.height == 5
    assert report["txs"] == sample.txs == 1 + 4 * 40
    assert report["jobs"] == int(jobs.partition("/")[0])
    assert report["state_hash_match"] is True and report["state_digest_match"] is True
    assert report["invariants_ok"] is True
    assert report["tx_per_s"] > 0 and report["seconds"] > 0


def test_the_human_report_says_what_was_checked(capsys, sample: SampleChain) -> None:
    assert main(["--log-level", "error", "audit", "--data", str(sample.files.data_dir), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "audit OK" in out and f"{sample.txs} transactions" in out and "money invariants: hold" in out


def test_one_changed_byte_of_a_stored_transaction_fails_at_its_height(capsys, sample, tmp_path) -> None:
    data = copy_data(sample, tmp_path / "data")
    with raw_db(data) as db:
        raw = db.get(block_key(TAMPERED_HEIGHT))
        tx = read_block(db, sample, TAMPERED_HEIGHT).txs[7]
        at = raw.index(tx) + len(tx) - 10  # inside the signature: the encoding stays valid
        db.put(block_key(TAMPERED_HEIGHT), raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1:])
    error = assert_fails(capsys, data, TAMPERED_HEIGHT, "bad_block")
    assert "txs_root" in error


@pytest.mark.parametrize("forger, code, phrase", [
    ("outsider", "certificate_unknown_validator", "no voting power"),
    ("minority", "certificate_insufficient_power", "25000 of 125000"),
], ids=["key_outside_the_set", "short_of_two_thirds"])
def test_a_forged_certificate_fails_at_its_height(capsys, sample, tmp_path, forger: str, code: str,
                                                   phrase: str) -> None:
    signer = SigningKey(b"\x09" * 32) if forger == "outsider" else sample.minority
    data = copy_data(sample, tmp_path / "data")
    with raw_db(data) as db:
        block_id = db.get(store_layout.BLOCK_HASH + store_layout.encode_height(TAMPERED_HEIGHT))
        db.put(certificate_key(TAMPERED_HEIGHT), certify(sample, [signer], TAMPERED_HEIGHT, block_id))
    assert phrase in assert_fails(capsys, data, TAMPERED_HEIGHT, code)


def test_a_certified_block_with_an_altered_state_hash_fails_on_replay(capsys, sample, tmp_path) -> None:
    data = copy_data(sample, tmp_path / "data")
    recertify_last_block(data, sample,
                         lambda block: replace(block, header=replace(block.header, state_hash=b"\x01" * 32)))
    error = assert_fails(capsys, data, sample.height, "wrong_state_hash")
    assert "01" * 32 in error


def test_an_altered_state_hash_without_a_new_certificate_breaks_the_certificate(capsys, sample, tmp_path) -> None:
    data = copy_data(sample, tmp_path / "data")
    with raw_db(data) as db:
        block = read_block(db, sample, TAMPERED_HEIGHT)
        db.put(block_key(TAMPERED_HEIGHT), replace(block, header=replace(block.header, state_hash=b"\x01" * 32)).encode())
    assert_fails(capsys, data, TAMPERED_HEIGHT, "block_hash_mismatch")


@pytest.mark.parametrize("jobs", JOBS)
def test_a_certified_block_with_a_bad_transaction_signature_fails(capsys, sample, tmp_path, jobs: str) -> None:
    data = copy_data(sample, tmp_path / "data")

    def forge_signature(block: wallet.block.Block) -> wallet.block.Block:
        fields = unpack(block.txs[3], 4096)
        fields[6] = bytes([fields[6][0] ^ 1]) + fields[6][1:]
        return replace(block, txs=block.txs[:3] + (pack(fields),) + block.txs[4:])

    recertify_last_block(data, sample, forge_signature)
    error = assert_fails(capsys, data, sample.height, "bad_signature", jobs=jobs)
    assert "transaction 3" in error


@pytest.mark.parametrize("jobs", JOBS)
@pytest.mark.parametrize("kind, code", [("undecodable", "bad_version"), ("oversize", "oversize")])
def test_a_certified_block_with_a_transaction_that_does_not_decode_fails(capsys, sample, tmp_path, kind: str,
                                                                          code: str, jobs: str) -> None:
    """Transactions are decoded ahead of the replay, the chain's max_tx_bytes checked when the block is applied."""
    data = copy_data(sample, tmp_path / "data")
    too_big = pack([1, "sale", b"\x00" * sample.genesis.params.max_tx_bytes])
    bad = pack(["not a version"]) if kind == "undecodable" else too_big
    recertify_last_block(data, sample, lambda block: replace(block, txs=block.txs[:5] + (bad,) + block.txs[6:]))
    error = assert_fails(capsys, data, sample.height, code, jobs=jobs)
    assert "transaction 5" in error and "does not decode" in error


def test_an_edited_balance_in_the_stored_state_fails_the_state_digest(capsys, sample, tmp_path) -> None:
    data = copy_data(sample, tmp_path / "data")
    with raw_db(data) as db:
        key, raw = next(iter(db.iterator(prefix=store_layout.STATE + layout.BALANCE)))
        balance = Balance.from_list(unpack(raw, 4096))
        db.put(key, pack(replace(balance, amount=balance.amount + 100).to_list()))
    error = assert_fails(capsys, data, sample.height, "state_digest_mismatch")
    assert "bal/" in error


def test_another_genesis_than_the_expected_one_fails_at_height_0(capsys, sample, tmp_path) -> None:
    other = tmp_path / "genesis.json"
    other.write_text(replace(sample.genesis, genesis_time_ms=sample.genesis.genesis_time_ms + 1).to_json())
    exit_code, report = run_audit(capsys, sample.files.data_dir, "--genesis", str(other))
    assert (exit_code, report["code"], report["height"]) == (1, "genesis_mismatch", 0)


def test_the_expected_genesis_file_is_accepted_when_it_is_the_stored_one(capsys, sample, tmp_path) -> None:
    same = tmp_path / "genesis.json"
    same.write_text(sample.genesis.to_json())
    assert run_audit(capsys, sample.files.data_dir, "--genesis", str(same))[0] == 0


def test_a_missing_data_folder_is_a_usage_error(capsys, tmp_path) -> None:
    assert main(["--log-level", "error", "audit", "--data", str(tmp_path / "nowhere"), "--json"]) == 2
    assert "does not exist" in capsys.readouterr().err
