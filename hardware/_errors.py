"""The hardware package's errors: one root, a stable code and a sentence each.

::

    HardwareError                 root; ``code`` + ``detail``
    ├── ReaderConfigError         the reader configuration is invalid
    ├── PcscUnavailable           pcscd is not running, stopped, or pyscard is missing
    ├── PcscError                 any other PC/SC failure (carries the ``hresult``)
    └── CardReadError             the card answered, but not with a usable UID

pyscard reports failures as integer result codes: :mod:`hardware._pcsc` turns
them into these classes at the border, so nothing else sees pyscard.
"""

from __future__ import annotations


class HardwareError(Exception):
    """Root of the errors of the hardware package."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class ReaderConfigError(HardwareError):
    """A reader configuration field is out of range or of the wrong type."""


class PcscUnavailable(HardwareError):
    """The PC/SC service cannot be reached: retry later, the node keeps running."""


class PcscError(HardwareError):
    """A PC/SC call failed for another reason; ``hresult`` is the raw PC/SC code."""

    def __init__(self, code: str, detail: str, hresult: int) -> None:
        super().__init__(code, detail)
        self.hresult = hresult


class CardReadError(HardwareError):
    """The card answered GET DATA UID with an error status word or a malformed UID."""
