"""Run many seeds (in parallel processes when asked) and sum up what the checks found."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Iterable

from consensus.simulation.network import run_scenario
from consensus.simulation.scenario import RunResult, Scenario


def run_guarded(scenario: Scenario) -> RunResult:
    """One run; an exception becomes a failed result naming it, so one bug does not hide the other seeds."""
    try:
        return run_scenario(scenario)
    except Exception as exc:  # noqa: BLE001 - reported, never swallowed
        return RunResult(scenario.seed, scenario.validators, scenario.byzantine,
                         error=f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class BatchSummary:
    runs: int
    safety_violations: int
    liveness_failures: int
    certificate_failures: int
    errors: int
    evidence_expected: int
    evidence_committed: int
    heights_committed: int
    min_heights: int
    max_round: int
    virtual_ms: int
    failed_seeds: tuple[int, ...]
    failures: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failed_seeds

    def as_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "safety_violations": self.safety_violations,
            "liveness_failures": self.liveness_failures,
            "certificate_failures": self.certificate_failures,
            "errors": self.errors,
            "evidence_expected": self.evidence_expected,
            "evidence_committed": self.evidence_committed,
            "evidence_missing": self.evidence_expected - self.evidence_committed,
            "heights_committed": self.heights_committed,
            "min_heights_per_run": self.min_heights,
            "max_round": self.max_round,
            "virtual_ms": self.virtual_ms,
            "failed_seeds": list(self.failed_seeds),
            "failures": list(self.failures),
        }


def summarize(results: Iterable[RunResult]) -> BatchSummary:
    results = list(results)
    failures = []
    for result in results:
        reasons = [*result.safety_violations, *result.certificate_failures, *result.notes]
        if result.liveness_failure:
            reasons.append(result.liveness_failure)
        if result.error:
            reasons.append(f"crashed: {result.error}")
        if result.evidence_missing:
            reasons.append("the double-voter's evidence was not committed and slashed")
        if not result.ok:
            failures.append(f"seed {result.seed}: " + "; ".join(reasons))
    return BatchSummary(
        runs=len(results),
        safety_violations=sum(len(r.safety_violations) for r in results),
        liveness_failures=sum(1 for r in results if r.liveness_failure),
        certificate_failures=sum(len(r.certificate_failures) for r in results),
        errors=sum(1 for r in results if r.error),
        evidence_expected=sum(1 for r in results if r.evidence_expected),
        evidence_committed=sum(1 for r in results if r.evidence_committed),
        heights_committed=sum(r.heights for r in results),
        min_heights=min((r.heights for r in results), default=0),
        max_round=max((r.max_round for r in results), default=0),
        virtual_ms=sum(r.virtual_ms for r in results),
        failed_seeds=tuple(r.seed for r in results if not r.ok),
        failures=tuple(failures),
    )


def run_seeds(base: Scenario, seeds: int, seed_start: int = 0, jobs: int = 1) -> BatchSummary:
    """Run ``seeds`` scenarios like ``base`` with seeds ``seed_start ...``; each result depends on its seed only."""
    scenarios = [replace(base, seed=seed) for seed in range(seed_start, seed_start + seeds)]
    if jobs <= 1:
        return summarize(map(run_guarded, scenarios))
    with ProcessPoolExecutor(max_workers=min(jobs, os.cpu_count() or 1)) as pool:
        return summarize(pool.map(run_guarded, scenarios, chunksize=max(1, seeds // (8 * jobs))))
