"""PC/SC smartcard reader service: NFC card taps and reader hot-plug as typed events.

The node starts :class:`ReaderService` only when :attr:`ReaderConfig.enabled`
is set; it talks to pcscd through pyscard (the optional ``reader`` extra) and
sends :data:`ReaderEvent` s into a trio channel. See ``docs/hardware.md``.
"""

from hardware._config import ReaderConfig
from hardware._errors import CardReadError, HardwareError, PcscError, PcscUnavailable, ReaderConfigError
from hardware._events import (
    CardRemoved,
    CardTapped,
    CardUnreadable,
    ReaderAttached,
    ReaderDetached,
    ReaderEvent,
    ReaderServiceStatus,
    ServiceState,
)
from hardware._service import ReaderService

__all__ = [
    "CardReadError",
    "CardRemoved",
    "CardTapped",
    "CardUnreadable",
    "HardwareError",
    "PcscError",
    "PcscUnavailable",
    "ReaderAttached",
    "ReaderConfig",
    "ReaderConfigError",
    "ReaderDetached",
    "ReaderEvent",
    "ReaderService",
    "ReaderServiceStatus",
    "ServiceState",
]
