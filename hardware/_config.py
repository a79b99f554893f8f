"""The reader service's configuration: a frozen dataclass validated when built."""

from __future__ import annotations

from dataclasses import dataclass

from hardware._errors import ReaderConfigError

_MIN_INTERVAL_MS = 10
_MAX_INTERVAL_MS = 60_000


@dataclass(frozen=True)
class ReaderConfig:
    """How the node watches its card readers.

    ``enabled`` is off by default: a node without a reader never starts the
    service. ``reader_filter`` keeps the readers whose name contains it (case
    ignored; empty keeps all). ``poll_interval_ms`` bounds each blocking wait on
    pcscd, hence how quickly a new reader or a stop request is noticed;
    ``max_backoff_ms`` caps the doubling delay between reconnection attempts
    while pcscd is unreachable.
    """

    enabled: bool = False
    reader_filter: str = ""
    poll_interval_ms: int = 250
    max_backoff_ms: int = 5_000

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ReaderConfigError("bad_type", f"enabled must be true or false, not {self.enabled!r}")
        if not isinstance(self.reader_filter, str):
            raise ReaderConfigError(
                "bad_type", f"reader_filter must be a string, not {self.reader_filter!r}")
        for field in ("poll_interval_ms", "max_backoff_ms"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ReaderConfigError("bad_type", f"{field} must be an integer, not {value!r}")
            if not _MIN_INTERVAL_MS <= value <= _MAX_INTERVAL_MS:
                raise ReaderConfigError(
                    "out_of_range",
                    f"{field} must be between {_MIN_INTERVAL_MS} and {_MAX_INTERVAL_MS} ms, not {value}")
        if self.max_backoff_ms < self.poll_interval_ms:
            raise ReaderConfigError(
                "out_of_range",
                f"max_backoff_ms ({self.max_backoff_ms}) must not be below poll_interval_ms "
                f"({self.poll_interval_ms})")

    def accepts(self, reader_name: str) -> bool:
        """Whether the service should watch the reader called ``reader_name``."""
        return self.reader_filter.casefold() in reader_name.casefold()
