"""``fedow-node audit --stripe``: the chain's FED trail against the Stripe account, through the SDK.

The backing invariant proves that FED in circulation equals what the treasury attested; this
checks the attestations against the money itself. Every euro-moving object of the account
that belongs to fedow is read (page after page) and matched with the chain:

* money in: each paid top-up Checkout Session (``fedow_purpose=fed_refill``) and each
  succeeded float payment intent (``fed_float``) is minted exactly once, under its id, for its
  amount, into the wallet its metadata names (``paid_not_minted``, ``amount_mismatch``,
  ``wallet_mismatch``); each mint on the chain has such a payment (``minted_without_payment``);
* money out: each refund of a fedow payment that did not fail, and each fedow transfer not
  reversed in full, is burnt exactly once for the amount that left (``paid_out_not_burnt``,
  ``amount_mismatch``), unless its hold still waits for the treasury (reported as pending);
  each burn on the chain has such a refund or transfer (``burnt_without_payout``).

Each discrepancy names the reference (the Stripe id, or the chain's reference). Objects of
other integrations sharing the account are counted as ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fedow_node.audit._trail import MoneyTrail
from fedow_node.payments import FLOAT_PURPOSE, HOLD_KEY, PURPOSE_KEY, REFILL_PURPOSE, WALLET_KEY, StripeApi
from wallet.keys import encode_address
from wallet.records import HOLD_HELD

FAILED_REFUNDS = ("failed", "canceled")


@dataclass(frozen=True)
class Discrepancy:
    reference: str
    code: str
    detail: str


@dataclass(frozen=True)
class StripeReconciliation:
    payments_minted: int
    """Fedow payments at Stripe matched with exactly one mint."""
    payouts_burnt: int
    """Refunds and transfers matched with exactly one burn."""
    pending: tuple[str, ...]
    """Holds still waiting for the treasury (their payout may be under way)."""
    ignored: int
    """Objects of the account that are not fedow's."""
    discrepancies: tuple[Discrepancy, ...]

    @property
    def reconciled(self) -> bool:
        return not self.discrepancies


@dataclass(frozen=True)
class _Expected:
    """A euro movement at Stripe that the chain must show once."""

    reference: str
    amount: int
    wallet: str | None
    hold: str | None


async def _every(stripe: StripeApi, objects: str) -> list[dict[str, Any]]:
    return [item async for item in stripe.every(objects)]


async def reconcile_stripe(trail: MoneyTrail, stripe: StripeApi) -> StripeReconciliation:
    """Compare ``trail`` (from a replay) with every fedow payment, refund and transfer of the account."""
    sessions = await _every(stripe, "checkout_sessions")
    intents = await _every(stripe, "payment_intents")
    refunds = await _every(stripe, "refunds")
    transfers = await _every(stripe, "transfers")
    payments_in, ignored = _payments_in(sessions, intents)
    fedow_intents = {intent["id"] for intent in intents if _purpose(intent) in (REFILL_PURPOSE, FLOAT_PURPOSE)}
    payouts, ignored_out = _payouts(refunds, transfers, fedow_intents)
    discrepancies: list[Discrepancy] = []
    minted = _match(payments_in, {mint.reference: (mint.amount, encode_address(mint.wallet))
                                  for mint in trail.mints}, "paid_not_minted", "minted_without_payment",
                    discrepancies, set())
    held = {hold.reference for hold in trail.holds if hold.state == HOLD_HELD}
    burnt = _match(payouts, {burn.stripe_id: (burn.amount, None) for burn in trail.burns},
                   "paid_out_not_burnt", "burnt_without_payout", discrepancies, held)
    return StripeReconciliation(minted, burnt, tuple(sorted(held)), ignored + ignored_out, tuple(discrepancies))


def _purpose(obj: dict[str, Any]) -> str | None:
    return (obj.get("metadata") or {}).get(PURPOSE_KEY)


def _payments_in(sessions: list[dict[str, Any]], intents: list[dict[str, Any]]) -> tuple[list[_Expected], int]:
    """Paid top-ups (by session) and float transfers (by payment intent); and how many others there are."""
    expected = [_Expected(session["id"], session.get("amount_total") or 0,
                          (session.get("metadata") or {}).get(WALLET_KEY), None)
                for session in sessions
                if _purpose(session) == REFILL_PURPOSE and session.get("payment_status") == "paid"]
    expected += [_Expected(intent["id"], intent.get("amount_received") or 0,
                           (intent.get("metadata") or {}).get(WALLET_KEY), None)
                 for intent in intents if _purpose(intent) == FLOAT_PURPOSE and intent.get("status") == "succeeded"]
    others = sum(1 for session in sessions if _purpose(session) != REFILL_PURPOSE) + \
        sum(1 for intent in intents if _purpose(intent) not in (REFILL_PURPOSE, FLOAT_PURPOSE))
    return expected, others


def _payouts(refunds: list[dict[str, Any]], transfers: list[dict[str, Any]],
             fedow_intents: set[str]) -> tuple[list[_Expected], int]:
    """Euros that left for fedow: refunds of its payments that did not fail, transfers not reversed in full."""
    expected = [_Expected(refund["id"], refund.get("amount") or 0, None, (refund.get("metadata") or {}).get(HOLD_KEY))
                for refund in refunds
                if refund.get("payment_intent") in fedow_intents and refund.get("status") not in FAILED_REFUNDS]
    mine = [transfer for transfer in transfers if (transfer.get("metadata") or {}).get(HOLD_KEY)]
    expected += [_Expected(transfer["id"], (transfer.get("amount") or 0) - (transfer.get("amount_reversed") or 0),
                           None, transfer["metadata"][HOLD_KEY])
                 for transfer in mine if transfer.get("amount_reversed") != transfer.get("amount")]
    others = sum(1 for refund in refunds if refund.get("payment_intent") not in fedow_intents) + \
        len(transfers) - len(mine)
    return expected, others


def _match(at_stripe: list[_Expected], on_chain: dict[str, tuple[int, str | None]], missing_code: str,
           unbacked_code: str, discrepancies: list[Discrepancy], pending_holds: set[str]) -> int:
    """Pair Stripe's movements with the chain's by reference; returns how many match exactly."""
    matched = 0
    seen = set()
    for item in at_stripe:
        seen.add(item.reference)
        found = on_chain.get(item.reference)
        if found is None:
            if item.hold not in pending_holds:
                discrepancies.append(Discrepancy(item.reference, missing_code, f"Stripe moved {item.amount} cents "
                                                 f"({item.reference}) and the chain shows no FED for it"))
            continue
        amount, wallet = found
        if amount != item.amount:
            discrepancies.append(Discrepancy(item.reference, "amount_mismatch", f"Stripe moved {item.amount} cents "
                                             f"({item.reference}), the chain shows {amount}"))
        elif wallet is not None and wallet != item.wallet:
            discrepancies.append(Discrepancy(item.reference, "wallet_mismatch", f"Stripe names wallet {item.wallet} "
                                             f"({item.reference}), the chain minted into {wallet}"))
        else:
            matched += 1
    discrepancies += [Discrepancy(reference, unbacked_code, f"the chain shows {amount} cents under {reference}, "
                                  "which no euro movement of the Stripe account backs")
                      for reference, (amount, _wallet) in sorted(on_chain.items()) if reference not in seen]
    return matched
