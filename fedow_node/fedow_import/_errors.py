"""What an import cannot carry over: each refusal names the Fedow table, the row and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    table: str
    row: str
    """The row's primary key (a UUID as Fedow stores it), or "" for the table or file as a whole."""
    reason: str

    def __str__(self) -> str:
        return f"{self.table} {self.row}: {self.reason}" if self.row else f"{self.table}: {self.reason}"


class ImportRefused(Exception):
    """Nothing was written: every row that cannot be carried over is listed."""

    def __init__(self, refusals: list[Refusal]) -> None:
        super().__init__("; ".join(map(str, refusals)))
        self.refusals = refusals
