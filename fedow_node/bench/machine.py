"""What the shared machine was doing while a multi-process benchmark ran: load, CPU, flame graphs.

The box is shared with other work, so a figure alone says little. Each network
benchmark reports beside its figures:

* ``verify_per_s``: raw Ed25519 verifications per CPU second of the benchmark's
  own process, measured before and after the run (the load factor of a core);
* ``box_busy``: the fraction of all the box's cores busy during the measured
  window (``/proc/stat``), whoever used them;
* ``nodes_cpu``: the fraction of the box the devnet's node processes used
  (``/proc/<pid>/stat``), the part the benchmark itself is responsible for.

With ``--profile DIR`` every node process is sampled by py-spy (an optional
tool: the ``profile`` extra, ``pip install -e .[profile]``) during the measured window and each writes a
flame graph ``node<i>.svg``; :func:`flame_summary` reads one back as the share
of samples spent in named functions.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fedow_node.bench.ledger import verify_rate

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PY_SPY_RATE = 97
"""Samples per second (a prime, so sampling does not beat with 10 ms timers)."""


def _box_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of every core since boot."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _process_ticks(pid: int) -> int:
    """utime + stime of a process (its threads included), in jiffies; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0
    return int(fields[11]) + int(fields[12])


@dataclass(frozen=True)
class MachineLoad:
    verify_per_s: float
    """Ed25519 verifications per CPU second of the benchmark process (median of before and after)."""
    box_busy: float
    """Fraction of all cores busy during the window, every process of the box counted."""
    nodes_cpu: float
    """Fraction of all cores used by the node processes during the window."""
    cores: int


class CpuMeter:
    """Measures the box and a set of processes between :meth:`start` and :meth:`stop`."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self._verify_before = 0.0
        self._box = (0, 0)
        self._nodes = 0

    def start(self) -> None:
        self._verify_before = verify_rate(2000)
        self._box = _box_ticks()
        self._nodes = sum(map(_process_ticks, self.pids))

    def stop(self) -> MachineLoad:
        busy, total = _box_ticks()
        nodes = sum(map(_process_ticks, self.pids))
        window = max(1, total - self._box[1])
        verify_after = verify_rate(2000)
        return MachineLoad(verify_per_s=round(min(self._verify_before, verify_after), 1),
                           box_busy=round((busy - self._box[0]) / window, 3),
                           nodes_cpu=round((nodes - self._nodes) / window, 3), cores=os.cpu_count() or 1)


def py_spy() -> str | None:
    """The py-spy executable beside this Python, or on the PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Profiler:
    """py-spy sampling every node process for ``seconds``, one flame graph each (``node<i>.svg``)."""

    def __init__(self, out_dir: Path, pids: list[int], seconds: float) -> None:
        executable = py_spy()
        if executable is None:
            raise RuntimeError("--profile needs py-spy: pip install -e .[profile]")
        out_dir.mkdir(parents=True, exist_ok=True)
        self.files = [out_dir / f"node{index}.svg" for index in range(len(pids))]
        self._processes = [
            subprocess.Popen([executable, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                              "--rate", str(PY_SPY_RATE), "--nonblocking", "--nolineno", "--threads",
                              "--output", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for pid, path in zip(pids, self.files)]

    def wait(self, timeout: float = 60.0) -> list[Path]:
        """Wait for every sampler to write its graph; the graphs written."""
        for process in self._processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return [path for path in self.files if path.exists()]


_FRAME = re.compile(r'<title>(.*?) \([\d,]+ samples?, [\d.]+%\)</title><rect [^>]*fg:x="(\d+)" fg:w="(\d+)"')


def flame_summary(svg: Path, names: dict[str, str]) -> dict[str, float]:
    """Percent of a py-spy flame graph's samples spent under frames matching each regex of ``names``.

    Frames are intervals of samples (``fg:x``, ``fg:w``); a label's share is the
    union of its frames' intervals, so a function nested in itself counts once.
    """
    frames = [(html.unescape(title), int(x), int(w)) for title, x, w in _FRAME.findall(svg.read_text(errors="replace"))]
    total = max((w for title, _, w in frames if title == "all"), default=0) or 1
    shares = {}
    for label, pattern in names.items():
        regex = re.compile(pattern)
        covered, end = 0, -1
        for x, w in sorted((x, w) for title, x, w in frames if regex.search(title)):
            covered += max(0, x + w - max(x, end))
            end = max(end, x + w)
        shares[label] = round(100 * covered / total, 1)
    return shares
