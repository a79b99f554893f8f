"""The rules: one function per transaction kind, ``rule(book, tx)``, raising Rejected.

A rule checks authorisation and state, then changes state through the book;
it runs in a child overlay, so a rejection halfway changes nothing. The
threshold of a co-signed kind (``Body.KEY_SET``) is checked before its rule runs
(:func:`wallet.execute.apply_tx`).
"""

from __future__ import annotations

from typing import Callable

from wallet.book import Book
from wallet.rules import cards, governance, offline, passes, payments, staking, treasury
from wallet.tx import Tx

Rule = Callable[[Book, Tx], None]

RULES: dict[str, Rule] = {
    "create_place": governance.create_place,
    "archive_place": governance.archive_place,
    "rotate_place_key": governance.rotate_place_key,
    "replace_place_key": governance.replace_place_key,
    "set_keys": governance.set_keys,
    "place_policy": governance.place_policy,
    "create_asset": governance.create_asset,
    "archive_asset": governance.archive_asset,
    "create_federation": governance.create_federation,
    "federation_place": governance.federation_place,
    "federation_asset": governance.federation_asset,
    "admit_validator": governance.admit_validator,
    "remove_validator": governance.remove_validator,
    "set_params": governance.set_params,
    "schedule_upgrade": governance.schedule_upgrade,
    "fund_payout": governance.fund_payout,
    "register_cards": cards.register_cards,
    "link_card": cards.link_card,
    "lost_card": cards.lost_card,
    "void_card": cards.void_card,
    "set_primary_card": cards.set_primary_card,
    "cash_refill": payments.cash_refill,
    "mint": payments.mint,
    "sale": payments.sale,
    "qr_sale": payments.qr_sale,
    "transfer": payments.transfer,
    "settlement": payments.settlement,
    "refund": payments.refund,
    "fed_mint": treasury.fed_mint,
    "payout_hold": treasury.payout_hold,
    "refund_hold": treasury.refund_hold,
    "fed_burn": treasury.fed_burn,
    "fed_release": treasury.fed_release,
    "membership": passes.membership,
    "badge": passes.badge,
    "stake": staking.stake,
    "unstake": staking.unstake,
    "offline_bond": offline.offline_bond,
    "offline_unbond": offline.offline_unbond,
    "offline": offline.offline,
}

__all__ = ["RULES", "Rule"]
