"""What the reader service tells the node: one frozen dataclass per kind of event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

ServiceState: TypeAlias = Literal["ok", "pcscd_unavailable", "pcsc_error"]


@dataclass(frozen=True)
class ReaderServiceStatus:
    """The service's link to pcscd changed; sent on every change of ``state`` or ``detail``."""

    state: ServiceState
    detail: str


@dataclass(frozen=True)
class ReaderAttached:
    """A reader whose name passes the filter appeared (or was there when pcscd came up)."""

    name: str


@dataclass(frozen=True)
class ReaderDetached:
    """A reader went away (unplugged, or pcscd stopped); a card on it was removed first."""

    name: str


@dataclass(frozen=True)
class CardTapped:
    """A card arrived on ``reader`` and answered GET DATA with its 4-, 7- or 10-byte UID."""

    reader: str
    uid: bytes
    atr: bytes


@dataclass(frozen=True)
class CardUnreadable:
    """A card arrived on ``reader`` but gave no usable UID; ``code`` says why.

    Codes: ``status_word`` (an error status word, e.g. ``6A81``), ``bad_uid``
    (wrong length), ``card_gone`` (removed before it could be read),
    ``pcsc_error`` (connect or transmit failed, e.g. an unresponsive card).
    """

    reader: str
    atr: bytes
    code: str
    detail: str


@dataclass(frozen=True)
class CardRemoved:
    """The card that was on ``reader`` (tapped or unreadable) left it."""

    reader: str


ReaderEvent: TypeAlias = (
    ReaderServiceStatus | ReaderAttached | ReaderDetached | CardTapped | CardUnreadable | CardRemoved
)
