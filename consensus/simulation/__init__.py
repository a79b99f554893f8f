"""consensus.simulation: a deterministic, seeded, virtual-time network of consensus nodes, with checks.

Used by ``tests/consensus`` and by ``fedow-node simulate``. Randomness lives here only.
"""

from consensus.simulation.app import SimApplication, SimBlock, pay_tx, stake_tx
from consensus.simulation.batch import BatchSummary, run_seeds, summarize
from consensus.simulation.byzantine import Behaviour
from consensus.simulation.network import Simulation, run_scenario
from consensus.simulation.scenario import SIM_PARAMS, RunResult, Scenario

__all__ = [
    "BatchSummary",
    "Behaviour",
    "RunResult",
    "SIM_PARAMS",
    "Scenario",
    "SimApplication",
    "SimBlock",
    "Simulation",
    "pay_tx",
    "run_scenario",
    "run_seeds",
    "stake_tx",
    "summarize",
]
