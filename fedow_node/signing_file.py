"""The file a co-signed transaction travels in while its signers sign it, one machine at a time.

JSON, so a person can read it and any tool can carry it::

    {"format": "fedow-cosign/1", "chain_id": "...", "kind": "...", "txid": "<hex>",
     "unsigned": "<hex of the unsigned part>",
     "signatures": [{"public_key": "<hex>", "signature": "<hex>"}, ...]}

Only ``chain_id``, ``unsigned`` and ``signatures`` carry meaning; ``kind`` and
``txid`` are there for people and must agree with ``unsigned`` (a file edited
by hand is refused rather than half-trusted). Every signature is verified on
loading, so a bad one is caught by the next signer, not by the node.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config import write_atomically
from wallet.errors import Rejected
from wallet.keys import SigningKey, verify
from wallet.tx import TX_DOMAIN, Draft, combine, cosign, read_unsigned

__all__ = ["FORMAT", "SigningFile", "SigningFileError"]

FORMAT = "fedow-cosign/1"
MAX_FILE_BYTES = 64 * 1024


class SigningFileError(ValueError):
    """The file is not a valid signing file; the message says what is wrong."""


@dataclass
class SigningFile:
    chain_id: str
    draft: Draft
    signatures: dict[bytes, bytes] = field(default_factory=dict)
    """Public key -> signature of ``draft.unsigned`` for ``chain_id``; each verified."""

    @classmethod
    def new(cls, chain_id: str, unsigned: bytes) -> SigningFile:
        return cls(chain_id, read_unsigned(unsigned, MAX_FILE_BYTES))

    @classmethod
    def load(cls, path: Path) -> SigningFile:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SigningFileError(f"cannot read {path}: {exc}") from None
        if len(text) > MAX_FILE_BYTES:
            raise SigningFileError(f"{path} is larger than {MAX_FILE_BYTES} bytes: not a signing file")
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SigningFileError(f"{path} is not JSON: {exc}") from None
        return cls.from_json(data, str(path))

    @classmethod
    def from_json(cls, data: Any, where: str = "signing file") -> SigningFile:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SigningFileError(f"{where} is not a {FORMAT} file (field format)")
        try:
            draft = read_unsigned(_hex(data.get("unsigned"), "unsigned"), MAX_FILE_BYTES)
        except Rejected as exc:
            raise SigningFileError(f"{where}: field unsigned: {exc.detail}") from None
        chain_id = data.get("chain_id")
        if not isinstance(chain_id, str) or not chain_id:
            raise SigningFileError(f"{where}: field chain_id must name the chain")
        if data.get("kind") != draft.kind or data.get("txid") != draft.txid.hex():
            raise SigningFileError(f"{where}: fields kind and txid do not match the unsigned transaction "
                                   "(edited by hand?)")
        signing = cls(chain_id, draft)
        entries = data.get("signatures")
        if not isinstance(entries, list):
            raise SigningFileError(f"{where}: field signatures must be a list")
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise SigningFileError(f"{where}: signatures[{index}] must be an object")
            signing.add(_hex(entry.get("public_key"), f"signatures[{index}].public_key"),
                        _hex(entry.get("signature"), f"signatures[{index}].signature"))
        return signing

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "chain_id": self.chain_id, "kind": self.draft.kind,
                "txid": self.draft.txid.hex(), "unsigned": self.draft.unsigned.hex(),
                "signatures": [{"public_key": key.hex(), "signature": self.signatures[key].hex()}
                               for key in sorted(self.signatures)]}

    def save(self, path: Path) -> None:
        write_atomically(path, json.dumps(self.to_json(), indent=2) + "\n", mode=0o644)

    def add(self, public_key: bytes, signature: bytes) -> None:
        """Add a signature, after checking it signs this very transaction for this chain."""
        if not verify(public_key, TX_DOMAIN, self.chain_id, self.draft.unsigned, signature):
            raise SigningFileError(f"the signature of key {public_key.hex()} does not verify for this "
                                   f"transaction on chain {self.chain_id!r}")
        self.signatures[public_key] = signature

    def sign(self, key: SigningKey) -> None:
        public_key, signature = cosign(key, self.chain_id, self.draft.unsigned)
        self.add(public_key, signature)

    def transaction(self) -> bytes:
        """The co-signed transaction to submit (needs at least one signature)."""
        if not self.signatures:
            raise SigningFileError("nobody has signed this transaction yet")
        return combine(self.draft.unsigned, self.signatures.items())


def _hex(value: Any, name: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except (TypeError, ValueError):
        raise SigningFileError(f"field {name} must be hex") from None
