"""API tokens: stored only as their SHA-256, in a 0600 file, each with a role.

Roles: ``pos`` (a till: POS requests signed with the place key, bound to that
place, plus private reads), ``read`` (private reads only: balances, histories,
listings, totals, reader events; an accountant, a ticketing site) and
``operator`` (private reads plus the dashboard's administration: tokens and
pairing codes). A token is shown once, when created (``fedow-node api-token
create``, or a pairing code exchanged by a till); the node keeps
``sha256(token)`` and compares hashes with ``hmac.compare_digest`` against every
entry, so neither the file nor the timing tells a token away. The file is
re-read when it changes on disk, so a revoked token stops working without a
restart. A file readable by group or others is refused. Every change of the
file (CLI or running node) holds an exclusive ``flock`` on a lock file beside it.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import stat
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import structlog

from config import write_atomically

__all__ = ["ROLES", "TOKENS_FILE", "TokenEntry", "TokenFile", "TokenFileError", "create_token", "list_tokens",
           "locked", "revoke_token", "tokens_path"]

log = structlog.get_logger(__name__)

TOKENS_FILE = "api-tokens.json"
TOKEN_PREFIX = "fdw_"
_VERSION = 1
ROLES = ("pos", "read", "operator")
MAX_LABEL_CHARS = 64


def tokens_path(home: Path) -> Path:
    """Where a node home keeps its API tokens."""
    return home / TOKENS_FILE


class TokenFileError(Exception):
    """The token file cannot be trusted or read; ``detail`` says why and how to fix it."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class TokenEntry:
    """One token as stored: a public id (to list and revoke it), its place, its hash, its role and label.

    ``place`` binds a ``pos`` token to the place whose key signs for it; it is
    empty for ``read`` and ``operator`` tokens (node-wide). ``label`` names the
    till or person (shown in the dashboard's per-till figures).
    """

    id: str
    place: str
    sha256: str
    created_ms: int
    role: str = "pos"
    label: str = ""


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _check_mode(path: Path, mode: int) -> None:
    if stat.S_IMODE(mode) & 0o077:
        raise TokenFileError(f"{path} is readable or writable by group or others "
                             f"(mode {stat.S_IMODE(mode):o}); run chmod 600 {path}")


def _read(path: Path) -> tuple[TokenEntry, ...]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return ()
    _check_mode(path, mode)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document["version"] != _VERSION:
            raise ValueError(f"version {document['version']!r} is not {_VERSION}")
        entries = tuple(TokenEntry(str(item["id"]), str(item["place"]), str(item["sha256"]), int(item["created_ms"]),
                                   str(item.get("role", "pos")), str(item.get("label", "")))
                        for item in document["tokens"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TokenFileError(f"{path} is not a valid token file: {exc}") from None
    for entry in entries:
        if entry.role not in ROLES:
            raise TokenFileError(f"{path} is not a valid token file: token {entry.id} has role {entry.role!r}")
    return entries


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``path``'s token files (tokens, pairing codes) while changing them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _write(path: Path, entries: tuple[TokenEntry, ...]) -> None:
    document = {"version": _VERSION, "tokens": [asdict(entry) for entry in entries]}
    write_atomically(path, json.dumps(document, indent=1) + "\n", mode=0o600)


def list_tokens(path: Path) -> tuple[TokenEntry, ...]:
    return _read(path)


def create_token(path: Path, place: str, now_ms: int, role: str = "pos", label: str = "") -> tuple[TokenEntry, str]:
    """Add a token; returns its entry and the token itself (shown once).

    A ``pos`` token needs ``place``; ``read`` and ``operator`` tokens are node-wide (place ignored).
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if role == "pos" and not place:
        raise ValueError("a pos token needs the place it signs for")
    if len(label) > MAX_LABEL_CHARS or not label.isprintable():
        raise ValueError(f"label must be at most {MAX_LABEL_CHARS} printable characters")
    token_id = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    entry = TokenEntry(token_id, place if role == "pos" else "", _hash(token).hex(), now_ms, role, label)
    with locked(path):
        _write(path, _read(path) + (entry,))
    return entry, token


def revoke_token(path: Path, token_id: str) -> bool:
    """Remove the token ``token_id``; False when there is none."""
    with locked(path):
        entries = _read(path)
        kept = tuple(entry for entry in entries if entry.id != token_id)
        if len(kept) == len(entries):
            return False
        _write(path, kept)
    return True


class TokenFile:
    """The node's view of the token file, re-read when its size, mtime or inode change; its mode checked always."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._signature: tuple[int, int, int] | None = None
        self._entries: tuple[tuple[bytes, TokenEntry], ...] = ()

    def _refresh(self) -> None:
        try:
            info = os.stat(self.path)
            signature = (info.st_ino, info.st_size, info.st_mtime_ns)
        except FileNotFoundError:
            signature = (0, 0, 0)
        else:  # on every load: a chmod changes neither the size nor the mtime
            _check_mode(self.path, info.st_mode)
        if signature == self._signature:
            return
        entries = _read(self.path)
        self._entries = tuple((bytes.fromhex(entry.sha256), entry) for entry in entries)
        self._signature = signature
        log.info("api_tokens_loaded", path=str(self.path), tokens=len(entries))

    def lookup(self, token: str) -> TokenEntry | None:
        """The entry of ``token`` (its id and place), or None; TokenFileError if the file is unusable."""
        self._refresh()
        presented = _hash(token)
        found = None
        for stored, entry in self._entries:  # no early exit: the time does not depend on the match
            if hmac.compare_digest(stored, presented):
                found = entry
        return found
