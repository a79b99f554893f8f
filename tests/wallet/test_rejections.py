"""A table of rejections not covered elsewhere: each has its code, a reason, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from ledger_world import (ALICE, AUTHORITY, BAR, BAR_WALLET, BOB, CAFE, TREASURY, Chain, card_uid, card_wallet, key,
                          rejected_code)

from wallet.bodies import BODY_TYPES
from wallet.keys import SigningKey


@pytest.fixture(scope="module")
def chain() -> Chain:
    """Card 1 active and funded, card 2 lost, card 3 voided, card 4 active and empty."""
    chain = Chain.start()
    chain.register(1, 2, 3, 4)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "FED", 1000),
                chain.tx(BAR, "lost_card", card_uid(2)),
                chain.tx(BAR, "void_card", card_uid(3)))
    return chain


CASES: list[tuple[SigningKey, str, tuple[Any, ...], str]] = [
    (AUTHORITY, "archive_place", ("nowhere", []), "unknown_place"),
    (AUTHORITY, "archive_asset", ("NOPE",), "unknown_asset"),
    (AUTHORITY, "federation_place", ("festival", "nowhere", True), "unknown_place"),
    (AUTHORITY, "federation_asset", ("festival", "FED", True), "no_change"),
    (AUTHORITY, "federation_asset", ("festival", "BARCOIN", False), "no_change"),
    (AUTHORITY, "admit_validator", (ALICE.public_key, "nowhere"), "unknown_place"),
    (AUTHORITY, "remove_validator", (ALICE.public_key,), "not_validator"),
    (AUTHORITY, "fund_payout", ("common", "MEMBER", ALICE.public_key, 1), "not_money"),
    (BAR, "mint", ("MEMBER", 1), "not_money"),
    (BAR, "cash_refill", (BAR_WALLET, "FED", 1), "place_wallet"),
    (BAR, "settlement", ("nowhere", "FED", 1), "unknown_place"),
    (CAFE, "refund", (card_uid(1), "BARCOIN", 1), "asset_not_accepted"),
    (BAR, "refund", (card_uid(2), "FED", 1), "card_lost"),
    (BAR, "refund", (card_uid(9), "FED", 1), "unknown_card"),
    (BAR, "membership", (ALICE.public_key, "NOPE", "day", 1), "unknown_asset"),
    (BAR, "badge", (card_uid(9), "BADGE"), "unknown_card"),
    (BAR, "badge", (card_uid(3), "BADGE"), "card_voided"),
    (BOB, "link_card", ("00000003",), "card_voided"),
    (BAR, "set_primary_card", (card_uid(2), True), "card_lost"),
    (BAR, "set_primary_card", (card_uid(1), False), "no_change"),
    (BAR, "void_card", (card_uid(9),), "unknown_card"),
    (ALICE, "void_card", (card_uid(1),), "not_place"),
    (BOB, "lost_card", (card_uid(1),), "not_place"),
    (BAR, "sale", (card_uid(4), "FED", 1), "overdraft"),
    (BAR, "sale", (card_uid(2), "FED", 1), "card_lost"),
    (ALICE, "transfer", (key("z").public_key, "MEMBER", 1), "not_money"),
    (ALICE, "transfer", (key("z").public_key, "FED", 50_001), "overdraft"),
    (ALICE, "qr_sale", ("bar", "BARCOIN", 1), "overdraft"),
    (CAFE, "payout_hold", ("payout-1", 1), "overdraft"),
    (key("stranger"), "unstake", (1,), "not_validator"),
    (BAR, "cash_refill", (card_wallet(3), "FED", 1), "card_voided"),     # money there would be stuck
    (TREASURY[0], "fed_mint", ("cs-lost", 1, card_wallet(2)), "card_lost"),
    (ALICE, "transfer", (card_wallet(2), "FED", 1), "card_lost"),
]


@pytest.mark.parametrize("signer, kind, fields, code", CASES,
                         ids=[f"{kind}-{code}-{index}" for index, (_s, kind, _f, code) in enumerate(CASES)])
def test_rejection(chain: Chain, signer: SigningKey, kind: str, fields: tuple[Any, ...], code: str) -> None:
    """Co-signed rows are signed by a threshold of their key set (the authorities, the treasury)."""
    key_set = BODY_TYPES[kind].KEY_SET
    tx = chain.tx(signer, kind, *fields) if key_set is None else \
        chain.attested(kind, *fields) if key_set == "treasury" else chain.govern(kind, *fields)
    assert rejected_code(chain, tx) == code
