"""Reading a Fedow (v1.5.x) SQLite database: the rows an import needs, nothing written.

The database is opened read-only; every table the import reads must be there. Rows
are plain mappings of column name to value, as SQLite stores them (UUIDs as 32 hex
characters, datetimes as Django's text).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedow_node.fedow_import._errors import ImportRefused, Refusal

Row = dict[str, Any]

_COLUMNS = {
    "configuration": "name, domain, primary_wallet_id",
    "wallet": "uuid, name",
    "place": "uuid, name, wallet_id",
    "asset": "uuid, name, currency_code, category, wallet_origin_id, archive",
    "token": "uuid, value, asset_id, wallet_id",
    "federation": "uuid, name",
    "federation_places": "federation_id, place_id",
    "federation_assets": "federation_id, asset_id",
    "fedowuser": "uuid, wallet_id",
    "origin": "id, place_id",
    "card": "uuid, first_tag_id, qrcode_uuid, number_printed, origin_id, user_id, wallet_ephemere_id",
    "card_primary_places": "card_id, place_id",
    "transaction": "uuid, datetime, action, receiver_id, asset_id, subscription_type, subscription_start_datetime",
}
"""Per table (without Fedow's ``fedow_core_`` prefix), the columns read. E-mail addresses, keys,
Stripe ids and the transactions' amounts are never read: they are not carried over."""


@dataclass(frozen=True)
class FedowData:
    tables: dict[str, list[Row]]

    def rows(self, table: str) -> list[Row]:
        return self.tables[table]


def read_fedow(path: Path) -> FedowData:
    """Every row the import needs, ordered by primary key (the conversion is then deterministic)."""
    if not path.is_file():
        raise ImportRefused([Refusal(str(path), "", "no such file")])
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            db.row_factory = sqlite3.Row
            present = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            missing = [f"fedow_core_{table}" for table in _COLUMNS if f"fedow_core_{table}" not in present]
            if missing:
                raise ImportRefused([Refusal(table, "", "table missing: this is not a Fedow v1.5 database")
                                     for table in missing])
            tables = {table: [dict(row) for row in db.execute(
                f"SELECT {columns} FROM fedow_core_{table} ORDER BY {columns.split(',')[0]}")]
                for table, columns in _COLUMNS.items()}
    except sqlite3.Error as exc:
        raise ImportRefused([Refusal(str(path), "", f"cannot be read as SQLite: {exc}")]) from None
    return FedowData(tables)
