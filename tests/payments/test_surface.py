"""The package's public surface, and the bounded memory of handled webhook events."""

from __future__ import annotations

import asyncio

import fedow_node.payments as payments
from fedow_node.payments import StripeBridge
from fedow_node.payments._recent import RecentIds
from memory_ledger import MemoryLedger
from payments_world import WALLET, config_for, paid_session_event


def test_every_exported_name_exists_and_nothing_private_leaks() -> None:
    assert sorted(payments.__all__) == sorted(set(payments.__all__))
    for name in payments.__all__:
        assert not name.startswith("_")
        assert getattr(payments, name) is not None


def test_recent_ids_forget_the_oldest_beyond_capacity() -> None:
    recent = RecentIds(capacity=3)
    for event_id in ("a", "b", "c", "a", "d"):  # "a" seen again: it becomes the newest
        recent.add(event_id)
    assert len(recent) == 3
    assert "b" not in recent
    assert all(event_id in recent for event_id in ("a", "c", "d"))


def test_a_forgotten_event_is_still_credited_once_thanks_to_the_ledger() -> None:
    async def scenario() -> list[str]:
        ledger = MemoryLedger()
        async with StripeBridge(config_for("http://127.0.0.1:9"), ledger, "place-0", recent_events=1) as bridge:
            first = paid_session_event("evt_1", "cs_test_1", 500, WALLET)
            other = paid_session_event("evt_2", "cs_test_2", 500, WALLET)
            statuses = [(await bridge.handle_event(event)).status for event in (first, other, first)]
        assert ledger.minted == 2 * 500
        return statuses

    assert asyncio.run(scenario()) == ["credited", "credited", "already_credited"]

