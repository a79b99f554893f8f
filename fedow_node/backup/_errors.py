"""The one error of backups and restores: a code for scripts and a sentence for the operator."""

from __future__ import annotations


class BackupError(Exception):
    """A backup that cannot be made, read or restored; nothing was left half-written."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
