"""The ledger as CSV files an accountant can open: blocks, transactions, balances, the directory.

Every file has a header row and a deterministic order (heights and positions,
or state key order), so two exports of the same chain are byte-identical.
Keys, hashes and wallet ids are lower-case hex; amounts are integers in the
asset's minor unit (cents for euro); times are block consensus times in
milliseconds since the Unix epoch, with the same instant in UTC ISO 8601.
Columns are documented in docs/audit.md.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wallet
from fedow_node.iso_time import iso_time
from storage import Store
from wallet import layout
from wallet.block import decode_block
from wallet.records import Asset, Balance, Card, Federation, Place, Supply, Validator, WalletInfo
from wallet.state import read_all, read_one

__all__ = ["ExportSummary", "export_ledger", "EXPORT_FILES"]

MAX_DECODED_BLOCK_BYTES = 256 * 1024 * 1024
EXPORT_BATCH_BLOCKS = 256

EXPORT_FILES = ("blocks.csv", "transactions.csv", "balances.csv", "assets.csv", "places.csv", "federations.csv",
                "validators.csv", "cards.csv")


@dataclass(frozen=True)
class ExportSummary:
    height: int
    rows: tuple[tuple[str, int], ...]
    """(file name, data rows), in :data:`EXPORT_FILES` order."""


def _cell(value: Any) -> Any:
    """One CSV cell: hex for bytes, ';'-joined lists, true/false, empty for None."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ";".join(str(_cell(item)) for item in value)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (tuple, list)):
        return [_jsonable(item) for item in value]
    return value


def body_json(body: wallet.Body) -> str:
    """A transaction body as a JSON object keyed by field name (sorted keys, bytes as hex)."""
    fields = {field.name: _jsonable(getattr(body, field.name)) for field in dataclasses.fields(body)}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _write(path: Path, header: tuple[str, ...], rows: Iterable[Iterable[Any]]) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell(value) for value in row])
            count += 1
    return count


def _chain_rows(store: Store, chain_id: str, max_tx_bytes: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(block rows, transaction rows) of the whole chain, in height then position order."""
    blocks, txs = [], []
    for start in range(1, store.height + 1, EXPORT_BATCH_BLOCKS):
        for stored in store.blocks(start, start + EXPORT_BATCH_BLOCKS - 1):
            block = decode_block(stored.block, chain_id=chain_id, max_bytes=MAX_DECODED_BLOCK_BYTES)
            header = block.header
            blocks.append((header.height, stored.block_hash, header.time_ms, iso_time(header.time_ms), header.proposer,
                           len(block.txs), header.state_hash))
            for position, raw in enumerate(block.txs):
                tx = wallet.decode_tx(raw, max_tx_bytes)
                txs.append((header.height, position, header.time_ms, iso_time(header.time_ms), tx.txid, tx.kind,
                            " ".join(key.hex() for key in tx.signers), tx.expires_at, body_json(tx.body)))
    return blocks, txs


def _balance_rows(store: Store) -> Iterator[tuple[Any, ...]]:
    for key, balance in read_all(store, layout.BALANCE, Balance):
        wallet_id, asset_id = layout.split_balance(key)
        info = read_one(store, layout.wallet(wallet_id), WalletInfo)
        yield (wallet_id, info.kind if info else "", asset_id, balance.amount, balance.last_activity_ms,
               iso_time(balance.last_activity_ms))


def _record_table(store: Store, prefix: bytes, cls: type) -> tuple[tuple[str, ...], Iterator[tuple[Any, ...]]]:
    """Every record under ``prefix``, one column per record field, in key order."""
    names = tuple(field.name for field in dataclasses.fields(cls))
    return names, (tuple(getattr(record, name) for name in names) for _key, record in read_all(store, prefix, cls))


def _asset_rows(store: Store) -> Iterator[tuple[Any, ...]]:
    for _key, asset in read_all(store, layout.ASSET, Asset):
        supply = read_one(store, layout.supply(asset.id), Supply) or Supply(0, 0, 0)
        yield (*(getattr(asset, field.name) for field in dataclasses.fields(Asset)),
               supply.minted, supply.burnt, supply.held)


def export_ledger(store: Store, out: Path) -> ExportSummary:
    """Write :data:`EXPORT_FILES` into ``out`` (created if needed) from the store's committed chain."""
    doc = store.genesis_doc()
    if doc is None:
        raise ValueError(f"the store at {store.path} holds no chain (no genesis)")
    chain_id = json.loads(doc)["chain_id"]
    out.mkdir(parents=True, exist_ok=True)
    params = wallet.current_params(store)
    blocks, txs = _chain_rows(store, chain_id, params.max_tx_bytes)
    asset_header = tuple(field.name for field in dataclasses.fields(Asset)) + ("minted", "burnt", "held")
    tables: list[tuple[str, tuple[str, ...], Iterable[Iterable[Any]]]] = [
        ("blocks.csv", ("height", "hash", "time_ms", "time_utc", "proposer", "txs", "state_hash"), blocks),
        ("transactions.csv", ("height", "position", "time_ms", "time_utc", "txid", "kind", "signer", "expires_at",
                              "body"), txs),
        ("balances.csv", ("wallet", "wallet_kind", "asset", "amount", "last_activity_ms", "last_activity_utc"),
         _balance_rows(store)),
        ("assets.csv", asset_header, _asset_rows(store)),
        ("places.csv", *_record_table(store, layout.PLACE, Place)),
        ("federations.csv", *_record_table(store, layout.FEDERATION, Federation)),
        ("validators.csv", *_record_table(store, layout.VALIDATOR, Validator)),
        ("cards.csv", *_record_table(store, layout.CARD, Card)),
    ]
    rows = tuple((name, _write(out / name, header, table)) for name, header, table in tables)
    return ExportSummary(store.height, rows)
