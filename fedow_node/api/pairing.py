"""Pairing a till: a one-time code, shown by the dashboard or the CLI, exchanged once for the till's own token.

The operator asks for a code (``fedow-node api-token pair`` or the dashboard);
the till's setup screen sends it to ``POST /v1/pairing`` and receives a token
of its own (role and place chosen with the code), so no token is ever copied
by hand. A code is ten characters of an unambiguous alphabet (50 bits), kept
only as its SHA-256 in ``<home>/api-pairing.json`` (mode 0600, same lock as
the token file), valid once and for ``ttl_ms`` (10 minutes by default). The
API bounds failed redemptions (:class:`PairingThrottle`), so guessing a code
within its lifetime is hopeless.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import stat
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

from config import write_atomically
from fedow_node.api.tokens import ROLES, TokenEntry, TokenFileError, create_token, locked

__all__ = ["DEFAULT_TTL_MS", "PAIRING_FILE", "PairingCode", "PairingThrottle", "create_pairing_code",
           "normalise_code", "pairing_path", "pending_codes", "redeem_pairing_code"]

PAIRING_FILE = "api-pairing.json"
DEFAULT_TTL_MS = 10 * 60_000
MAX_TTL_MS = 24 * 3_600_000
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0/O, 1/I/L: a code is read off a screen and typed on a till."""
CODE_CHARS = 10


def pairing_path(tokens_file: Path) -> Path:
    """The pairing-code file beside a token file."""
    return tokens_file.with_name(PAIRING_FILE)


@dataclass(frozen=True)
class PairingCode:
    """A pending code as stored: its hash, what the token will be, and when the code expires."""

    sha256: str
    role: str
    place: str
    label: str
    expires_ms: int


def normalise_code(text: str) -> str:
    """Upper case without blanks or dashes (``abcde-fghjk`` and ``ABCDEFGHJK`` are the same code)."""
    return "".join(char for char in text.upper() if char not in " -")


def _hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def _read(path: Path) -> list[PairingCode]:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return []
    if mode & 0o077:
        raise TokenFileError(f"{path} is readable or writable by group or others (mode {mode:o}); "
                             f"run chmod 600 {path}")
    try:
        return [PairingCode(str(item["sha256"]), str(item["role"]), str(item["place"]), str(item["label"]),
                            int(item["expires_ms"])) for item in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TokenFileError(f"{path} is not a valid pairing-code file: {exc}") from None


def _write(path: Path, codes: list[PairingCode]) -> None:
    write_atomically(path, json.dumps([asdict(code) for code in codes], indent=1) + "\n", mode=0o600)


def pending_codes(tokens_file: Path, now_ms: int) -> list[PairingCode]:
    """Codes not yet used nor expired (hashes only)."""
    return [code for code in _read(pairing_path(tokens_file)) if code.expires_ms > now_ms]


def create_pairing_code(tokens_file: Path, place: str, now_ms: int, role: str = "pos", label: str = "",
                        ttl_ms: int = DEFAULT_TTL_MS) -> tuple[str, PairingCode]:
    """A new code (``XXXXX-XXXXX``, shown once) that will give one token of ``role``; expired codes are purged."""
    if role not in ROLES or role == "operator":
        raise ValueError("a pairing code gives a pos or read token")
    if role == "pos" and not place:
        raise ValueError("a pos pairing code needs the place its till will sell for")
    if not 1 <= ttl_ms <= MAX_TTL_MS:
        raise ValueError(f"ttl_ms must be from 1 to {MAX_TTL_MS}")
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_CHARS))
    shown = f"{code[:5]}-{code[5:]}"
    pending = PairingCode(_hash(code), role, place if role == "pos" else "", label, now_ms + ttl_ms)
    path = pairing_path(tokens_file)
    with locked(tokens_file):
        _write(path, [item for item in _read(path) if item.expires_ms > now_ms] + [pending])
    return shown, pending


def redeem_pairing_code(tokens_file: Path, code: str, now_ms: int,
                        label: str = "") -> tuple[TokenEntry, str] | None:
    """Exchange a valid code for a new token (the code is spent); None for an unknown, used or expired code.

    ``label`` (the till's own name) is used when the code was created without one.
    """
    presented = _hash(code)
    path = pairing_path(tokens_file)
    with locked(tokens_file):
        codes = _read(path)
        found = None
        for item in codes:  # no early exit: the time does not depend on the match
            if hmac.compare_digest(item.sha256, presented) and item.expires_ms > now_ms:
                found = item
        if found is None:
            return None
        _write(path, [item for item in codes if item is not found and item.expires_ms > now_ms])
    return create_token(tokens_file, found.place, now_ms, found.role, found.label or label)


class PairingThrottle:
    """At most ``limit`` failed redemptions per ``window_ms``, node-wide: guessing stays hopeless."""

    def __init__(self, limit: int = 20, window_ms: int = 60_000) -> None:
        self.limit = limit
        self.window_ms = window_ms
        self._failures: deque[int] = deque()

    def _forget_old(self, now_ms: int) -> None:
        while self._failures and self._failures[0] <= now_ms - self.window_ms:
            self._failures.popleft()

    def allowed(self, now_ms: int) -> bool:
        self._forget_old(now_ms)
        return len(self._failures) < self.limit

    def failed(self, now_ms: int) -> None:
        self._failures.append(now_ms)
