"""Backups of a node home and their restore: the chain from one LevelDB snapshot, keys sealed by a passphrase.

:func:`make_backup` copies a stopped or running node (config, genesis, API token hashes,
the store's entries, the last-sign state; the node and place keys only when a passphrase
seals them); :func:`restore_backup` brings it back as a new home, and a restored
validator signs again only once :class:`RestoreGuard` knows it cannot sign twice.
The file format is described in ``_format.py`` and docs/install.md.
"""

from fedow_node.backup._errors import BackupError
from fedow_node.restore_guard import CLOCK_MARGIN_MS, RestoreGuard, ValidatorKeyInUse
from fedow_node.backup._make import BackupMade, make_backup
from fedow_node.backup._restore import Restored, check_backup, restore_backup
from fedow_node.backup._seal import MIN_PASSPHRASE_CHARS

__all__ = ["BackupError", "BackupMade", "CLOCK_MARGIN_MS", "MIN_PASSPHRASE_CHARS", "Restored", "RestoreGuard",
           "ValidatorKeyInUse", "check_backup", "make_backup", "restore_backup"]
