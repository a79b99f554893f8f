"""A real pcscd for the tests, serving only the vpcd virtual readers.

pcscd's socket path (/run/pcscd/pcscd.comm) is fixed, so only one pcscd can run
on the machine: we refuse to start if one we did not start is running, rather
than kill it. Test runs of other checkouts on the same machine wait for
:func:`pcscd_slot` (a machine-wide file lock) instead of failing. Our pcscd runs in the foreground with its own reader.conf.d folder
(a copy of the vpcd package's config: two readers, TCP 35963 and 35964) and is
stopped by its pid.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from smartcard import scard

VPCD_READER_CONF = Path("/etc/reader.conf.d/vpcd")
READER_0 = "Virtual PCD 00 00"
READER_1 = "Virtual PCD 00 01"
_READY_WITHIN_S = 10.0
_STOP_WITHIN_S = 10.0
SLOT_LOCK = Path("/tmp/fedow-tests-pcscd.lock")
_slot_depth = 0


@contextlib.contextmanager
def pcscd_slot() -> Iterator[None]:
    """Hold the machine's only pcscd slot (re-entrant within this process) while a test uses it."""
    global _slot_depth
    if _slot_depth:
        _slot_depth += 1
        try:
            yield
        finally:
            _slot_depth -= 1
        return
    with SLOT_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another checkout's suite may hold it for a few minutes
        _slot_depth = 1
        try:
            yield
        finally:
            _slot_depth = 0
            fcntl.flock(lock, fcntl.LOCK_UN)


def running_pcscd_pids() -> list[int]:
    """Pids of every pcscd process on the machine (read from /proc)."""
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "pcscd":
                pids.append(int(comm.parent.name))
        except OSError:
            continue  # the process ended while we looked
    return sorted(pids)


def fail_if_foreign_pcscd() -> None:
    """Raise if a pcscd is running that these tests did not start."""
    pids = running_pcscd_pids()
    if pids:
        raise RuntimeError(
            f"a pcscd is already running (pids {pids}); the hardware tests need the machine's only "
            f"pcscd slot. Stop it (e.g. `systemctl stop pcscd.socket pcscd`) and run again.")


def _readers_or_none() -> list[str] | None:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != 0:
        return None
    try:
        hresult, names = scard.SCardListReaders(context, [])
        return list(names) if hresult == 0 else None
    finally:
        scard.SCardReleaseContext(context)


class Pcscd:
    """One pcscd child process, startable and stoppable several times."""

    def __init__(self, workdir: Path) -> None:
        self._config_dir = workdir / "reader.conf.d"
        self._config_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(VPCD_READER_CONF, self._config_dir / "vpcd")
        self._log_path = workdir / "pcscd.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start pcscd and return once it lists both virtual readers."""
        fail_if_foreign_pcscd()
        with self._log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                ["pcscd", "--foreground", "--info", "--config", str(self._config_dir)],
                stdout=log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + _READY_WITHIN_S
        while _readers_or_none() != [READER_0, READER_1]:
            if self._process.poll() is not None:
                raise RuntimeError(f"pcscd exited with {self._process.returncode}: {self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pcscd did not list the vpcd readers within {_READY_WITHIN_S} s: "
                                   f"{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop our pcscd (SIGTERM, then SIGKILL if it lingers) and wait for it to exit."""
        if self._process is None:
            return
        process, self._process = self._process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_WITHIN_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=_STOP_WITHIN_S)

    def log_tail(self, lines: int = 20) -> str:
        """The end of pcscd's output, for failure messages."""
        return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])
