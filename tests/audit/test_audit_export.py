"""fedow-node export on a small known chain: the rows an accountant would check by hand."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from fedow_node.audit import EXPORT_FILES, SampleChain, build_sample_chain, card_uid
from fedow_node.audit._sample import CARD_BALANCE, MAJORITY_STAKE, MINORITY_STAKE
from fedow_node.cli import main
from storage import Store
from wallet.layout import card_wallet_id


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> SampleChain:
    """Height 3: one registration block, two blocks of 3 sales over 2 cards."""
    return build_sample_chain(tmp_path_factory.mktemp("small") / "data", blocks=2, block_txs=3, cards=2)


def export(capsys: pytest.CaptureFixture[str], small: SampleChain, out: Path) -> dict[str, list[dict[str, str]]]:
    assert main(["--log-level", "error", "export", "--data", str(small.files.data_dir), "--out", str(out)]) == 0
    assert "transactions.csv: 7 rows" in capsys.readouterr().out
    return {name: list(csv.DictReader((out / name).open(encoding="utf-8"))) for name in EXPORT_FILES}


def test_blocks_and_transactions_are_listed_in_chain_order(capsys, small, tmp_path) -> None:
    tables = export(capsys, small, tmp_path / "csv")
    with Store.open(small.files.store) as store:
        hashes = [store.block_hash(height).hex() for height in (1, 2, 3)]
    blocks = tables["blocks.csv"]
    assert [row["height"] for row in blocks] == ["1", "2", "3"]
    assert [row["hash"] for row in blocks] == hashes
    assert [row["txs"] for row in blocks] == ["1", "3", "3"]
    assert [int(row["time_ms"]) - small.genesis.genesis_time_ms for row in blocks] == [0, 1000, 2000]
    assert blocks[0]["time_utc"] == "2026-01-01T00:00:00.000Z"
    assert {row["proposer"] for row in blocks} == {small.validator.public_key.hex()}
    txs = tables["transactions.csv"]
    assert [(row["height"], row["position"]) for row in txs] == [("1", "0")] + [
        (str(h), str(p)) for h in (2, 3) for p in range(3)]
    assert [row["kind"] for row in txs] == ["register_cards"] + ["sale"] * 6
    assert {row["signer"] for row in txs} == {small.bar.public_key.hex()}
    assert json.loads(txs[0]["body"])["cards"][1] == [card_uid(1).hex(), "00000001", (1).to_bytes(16, "big").hex()]
    assert set(json.loads(txs[1]["body"])) == {"uid", "asset_id", "amount", "operator"}
    times = {row["height"]: row["time_ms"] for row in blocks}
    assert all(row["time_ms"] == times[row["height"]] for row in txs)  # every row carries its block's time
    assert txs[0]["time_utc"] == "2026-01-01T00:00:00.000Z"


def test_balances_are_what_the_sales_left(capsys, small, tmp_path) -> None:
    tables = export(capsys, small, tmp_path / "csv")
    sales = [json.loads(row["body"]) for row in tables["transactions.csv"] if row["kind"] == "sale"]
    spent = {index: sum(s["amount"] for s in sales if s["uid"] == card_uid(index).hex()) for index in (0, 1)}
    balances = {(row["wallet"], row["asset"]): int(row["amount"]) for row in tables["balances.csv"]}
    for index in (0, 1):
        assert balances[(card_wallet_id(card_uid(index)).hex(), "FED")] == CARD_BALANCE - spent[index]
    place = next(row for row in tables["places.csv"] if row["id"] == "bar")
    assert balances[(place["wallet"], "FED")] == sum(spent.values())
    assert {row["wallet_kind"] for row in tables["balances.csv"]} == {"card", "place"}
    assert all(row["last_activity_utc"].startswith("2026-01-01T") for row in tables["balances.csv"])


def test_the_directory_tables_show_assets_validators_and_cards(capsys, small, tmp_path) -> None:
    tables = export(capsys, small, tmp_path / "csv")
    (fed,) = tables["assets.csv"]
    assert (fed["id"], fed["category"], fed["melting"]) == ("FED", "FED", "false")
    assert int(fed["held"]) == int(fed["minted"]) == 2 * CARD_BALANCE + MAJORITY_STAKE + MINORITY_STAKE
    assert sorted(int(row["stake"]) for row in tables["validators.csv"]) == [MINORITY_STAKE, MAJORITY_STAKE]
    assert [row["number"] for row in tables["cards.csv"]] == ["00000000", "00000001"]
    assert tables["federations.csv"][0]["places"] == "bar"


def test_two_exports_of_the_same_chain_are_byte_identical(capsys, small, tmp_path) -> None:
    export(capsys, small, tmp_path / "one")
    export(capsys, small, tmp_path / "two")
    for name in EXPORT_FILES:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
