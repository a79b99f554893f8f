"""The config package's one error: every problem found in a document, each naming where and why.

A configuration or genesis file is usually written by hand, so the reader gets
all the problems at once rather than one per attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Problem:
    """One thing wrong: ``where`` names the file/variable and field, ``reason`` says why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class ConfigError(Exception):
    """A refused configuration, chain parameter set or genesis document.

    ``code`` is stable (``bad_params``, ``bad_genesis``, ``bad_config``);
    ``problems`` lists every problem found, in document order.
    """

    def __init__(self, code: str, problems: Sequence[Problem]) -> None:
        self.code = code
        self.problems = tuple(problems)
        super().__init__(f"{code}: " + "; ".join(str(problem) for problem in self.problems))

    def describe(self) -> str:
        """One problem per line, for a terminal."""
        return "\n".join([f"{self.code}: {len(self.problems)} problem(s)",
                          *(f"  {problem}" for problem in self.problems)])


def raise_if_any(code: str, problems: Sequence[Problem]) -> None:
    """Raise :class:`ConfigError` when ``problems`` is not empty."""
    if problems:
        raise ConfigError(code, problems)
