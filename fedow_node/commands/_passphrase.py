"""The passphrase that seals a backup's keys: from a file (scripts, cron) or typed at a terminal."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from fedow_node.backup import BackupError


def add_passphrase_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--passphrase-file", type=Path,
                        help="read the keys' passphrase from the first line of this file (mode 0600); "
                             "without it the passphrase is asked at the terminal")


def read_passphrase(path: Path | None, *, confirm: bool, optional: bool = False) -> str | None:
    """The passphrase from ``path`` or the terminal; None when ``optional`` and neither is available."""
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BackupError("passphrase_unreadable", f"cannot read the passphrase from {path}: {exc}") from None
        if not lines or not lines[0]:
            raise BackupError("passphrase_unreadable", f"{path} is empty: its first line is the passphrase")
        return lines[0]
    if not sys.stdin.isatty():
        if optional:
            return None
        raise BackupError("passphrase_needed", "no terminal to ask the passphrase at: give --passphrase-file")
    passphrase = getpass.getpass("passphrase of the backup's keys: ")
    if not passphrase and optional:
        return None
    if confirm and getpass.getpass("the same passphrase again: ") != passphrase:
        raise BackupError("passphrase_mismatch", "the two passphrases differ")
    return passphrase
