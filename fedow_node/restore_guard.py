"""A restored validator signs nothing until the network has moved past what its former self may have signed.

A backup's last-sign state can be old: the node it came from kept voting after the
backup, up to the height the network had reached when that node died. Its restore
therefore leaves a marker (``<data>/restored``, with the wall-clock time of the
restore) and the node starts as an observer: it follows consensus, votes for nothing,
and watches the blocks committed without it.

- The first committed block whose time is more than :data:`CLOCK_MARGIN_MS` after the
  restore was decided after the former node died (it is gone before its backup is
  restored), so whatever that node signed lies at or below that block's height. The
  signer is fenced through that height (signing there is refused as a regression), the
  marker is removed and the node starts signing from the next height.
- A block committed after the restore that carries a precommit of this very validator
  key means another node still signs with it: the node stops with an error instead of
  joining in (two nodes with one key would sign twice at some height and be slashed).

Block time is the stake-weighted median of the validators' clocks: the margin covers
the difference between this box's clock and theirs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import structlog

from config import write_atomically
from consensus.certificate import Certificate, decode_certificate
from consensus.signer import FileLastSignStore, fence_last_sign

log = structlog.get_logger(__name__)

MARKER_FILE = "restored"
CLOCK_MARGIN_MS = 15_000


class ValidatorKeyInUse(Exception):
    """Another node signs with this validator key."""


@dataclass(frozen=True)
class RestoreGuard:
    marker: Path
    restored_ms: int

    @classmethod
    def place(cls, data_dir: Path, restored_ms: int) -> RestoreGuard:
        """Write the marker into a restored data folder."""
        marker = data_dir / MARKER_FILE
        write_atomically(marker, json.dumps({"restored_ms": restored_ms}) + "\n", mode=0o600)
        return cls(marker, restored_ms)

    @classmethod
    def load(cls, data_dir: Path) -> RestoreGuard | None:
        """The guard of a data folder still on probation, or None."""
        marker = data_dir / MARKER_FILE
        try:
            return cls(marker, int(json.loads(marker.read_text())["restored_ms"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{marker} is unreadable ({exc}): it says this node was restored from a backup; "
                             "rewrite it as {\"restored_ms\": <time of the restore in ms>}") from None

    def release_height(self, height: int, time_ms: int, certificate: Certificate | None, our_key: bytes) -> int | None:
        """The height to fence the signer through once block ``height`` is committed, or None (keep observing).

        Raises :class:`ValidatorKeyInUse` when the block proves that another node signs with ``our_key``.
        """
        if time_ms <= self.restored_ms:
            return None  # decided before the restore: our former self may have voted for it
        if certificate is not None and any(sig.validator == our_key for sig in certificate.signatures):
            raise ValidatorKeyInUse(
                f"block {height}, committed after this node was restored, carries a precommit of its own validator "
                "key: another node still runs with this key. Stop one of them (never run two nodes with one key), "
                f"then start this one again; {self.marker} keeps it from signing until then")
        return height if time_ms > self.restored_ms + CLOCK_MARGIN_MS else None

    def clear(self) -> None:
        """Remove the marker (after the fence is saved: if a crash loses the removal, the node only
        observes again until the next block and fences again, higher)."""
        self.marker.unlink(missing_ok=True)


class Probation:
    """The node's side of the guard: fed every commit, it fences the signer and ends, or finds the key in use."""

    def __init__(self, guard: RestoreGuard, last_sign: Path, our_key: bytes) -> None:
        self.guard = guard
        self.last_sign = last_sign
        self.our_key = our_key
        self.active = True
        self.error: ValidatorKeyInUse | None = None
        log.warning("restore.observing", restored_ms=guard.restored_ms, detail="restored from a backup: this "
                    f"validator signs again once a block made {CLOCK_MARGIN_MS // 1000} s after the restore commits")

    @classmethod
    def load(cls, data_dir: Path, last_sign: Path, our_key: bytes) -> Probation | None:
        guard = RestoreGuard.load(data_dir)
        return None if guard is None else cls(guard, last_sign, our_key)

    def on_commit(self, height: int, time_ms: int, certificate: bytes | None) -> None:
        if not self.active or self.error is not None:
            return
        try:
            fence = self.guard.release_height(height, time_ms, decode_certificate(certificate) if certificate else None,
                                              self.our_key)
        except ValidatorKeyInUse as exc:
            self.error = exc
            log.error("restore.key_in_use", height=height, detail=str(exc))
            return
        if fence is not None:
            fence_last_sign(FileLastSignStore(self.last_sign), fence)
            self.guard.clear()
            self.active = False
            log.info("restore.signing_again", fenced_through=fence)
