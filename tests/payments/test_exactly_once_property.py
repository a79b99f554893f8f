"""Property: whatever the order of deliveries, replays, nodes and ledger outages, each paid
session is credited once, and FED in circulation equals what the paid sessions brought in.

Drives ``StripeBridge.handle_event`` directly (no HTTP) inside ``asyncio.run`` from a plain
sync test (pytest-trio's trio_mode only takes ``async def`` tests).
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fedow_node.payments import LedgerUnavailable, StripeBridge
from memory_ledger import MemoryLedger
from payments_world import config_for, paid_session_event

SESSIONS = 4
AMOUNTS = [100 * (index + 1) for index in range(SESSIONS)]
VARIANTS = ("completed", "completed-replay", "async-succeeded")


def paid_event(session: int, variant: str) -> dict[str, Any]:
    """Stripe's events for one paid session: the completion (maybe replayed) and a later success."""
    later = variant == "async-succeeded"
    return paid_session_event(f"evt_{session}_{'b' if later else 'a'}", f"cs_test_{session}", AMOUNTS[session],
                              bytes([session]) * 32,
                              "checkout.session.async_payment_succeeded" if later else "checkout.session.completed")


deliveries = st.lists(st.tuples(st.integers(0, SESSIONS - 1), st.sampled_from(VARIANTS),
                                st.integers(0, 2), st.booleans()), max_size=25)


@settings(max_examples=80, deadline=None)
@given(deliveries)
def test_each_paid_session_is_credited_once(schedule: list[tuple[int, str, int, bool]]) -> None:
    async def scenario() -> MemoryLedger:
        ledger = MemoryLedger()
        bridges = [StripeBridge(config_for("http://127.0.0.1:9"), ledger, f"place-{i}") for i in range(3)]
        failed: list[dict[str, Any]] = []
        for session, variant, node, ledger_up in schedule:
            ledger.available = ledger_up
            event = paid_event(session, variant)
            try:
                await bridges[node].handle_event(event)
            except LedgerUnavailable:
                failed.append(event)  # answered 503: Stripe delivers it again later
        ledger.available = True
        await asyncio.gather(*(bridges[0].handle_event(event) for event in failed))
        for bridge in bridges:
            await bridge.aclose()
        return ledger

    ledger = asyncio.run(scenario())
    delivered = {session for session, _, _, _ in schedule}
    assert set(ledger.references) == {f"cs_test_{session}" for session in delivered}
    assert ledger.minted == sum(AMOUNTS[session] for session in delivered)
    for session in delivered:
        assert ledger.wallets[bytes([session]) * 32] == AMOUNTS[session]
    assert ledger.fed_conserved()
