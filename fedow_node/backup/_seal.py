"""Secrets sealed with a passphrase: a key derived by argon2id, then libsodium's SecretBox.

The derivation parameters and the salt travel with the sealed bytes, so a backup made
today opens with the same passphrase on any later version. MODERATE limits (256 MiB,
about a second) make guessing a stolen backup's passphrase expensive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from fedow_node.backup._errors import BackupError

KDF = "argon2id"
MIN_PASSPHRASE_CHARS = 12


@dataclass(frozen=True)
class Sealed:
    salt: bytes
    opslimit: int
    memlimit: int
    box: bytes

    def to_wire(self) -> dict[str, Any]:
        return {"kdf": KDF, "salt": self.salt, "opslimit": self.opslimit, "memlimit": self.memlimit, "box": self.box}

    @classmethod
    def from_wire(cls, data: Any) -> Sealed:
        try:
            if data["kdf"] != KDF:
                raise BackupError("bad_backup", f"sealed keys use key derivation {data['kdf']!r}, not {KDF}")
            return cls(bytes(data["salt"]), int(data["opslimit"]), int(data["memlimit"]), bytes(data["box"]))
        except (KeyError, TypeError, ValueError):
            raise BackupError("bad_backup", "the sealed keys of the backup are malformed") from None


def _key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return nacl.pwhash.argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase.encode(), salt,
                                    opslimit=opslimit, memlimit=memlimit)


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise BackupError("weak_passphrase", f"the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters: "
                                             "it alone protects the node's keys in the backup")


def seal(plaintext: bytes, passphrase: str) -> Sealed:
    check_passphrase(passphrase)
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    opslimit, memlimit = nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE
    box = nacl.secret.SecretBox(_key(passphrase, salt, opslimit, memlimit)).encrypt(plaintext)
    return Sealed(salt, opslimit, memlimit, bytes(box))


def unseal(sealed: Sealed, passphrase: str) -> bytes:
    try:
        key = _key(passphrase, sealed.salt, sealed.opslimit, sealed.memlimit)
        return nacl.secret.SecretBox(key).decrypt(sealed.box)
    except nacl.exceptions.CryptoError:
        raise BackupError("wrong_passphrase", "the passphrase does not open the keys of this backup") from None
    except (ValueError, TypeError) as exc:  # a salt or limit out of libsodium's bounds
        raise BackupError("bad_backup", f"the sealed keys of the backup are malformed: {exc}") from None
