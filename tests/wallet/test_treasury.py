"""The treasury's rules: FED enters only by an attested mint and leaves only by an attested burn of a hold.

Each attack of issue 9 is a refusal with a precise code that changes nothing (``rejected_code``
applies it to an overlay and as a block). A property: no sequence of transactions signed by
keys that together hold fewer than the threshold of treasury keys ever changes the FED supply.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st
from ledger_world import (ALICE, AUTHORITIES, BAR, BAR_WALLET, CAFE, CAFE_WALLET, CHAIN, FLOAT, MAX_TX, TREASURY, Chain,
                          card_uid, card_wallet, key, rejected_code)

from wallet import layout, queries
from wallet.bodies import FedMint
from wallet.codec import pack, unpack
from wallet.errors import BlockTxRejected, Rejected
from wallet.execute import execute_block
from wallet.invariants import check_full
from wallet.records import Supply
from wallet.state import read_one
from wallet.tx import build_unsigned, combine, cosign, decode_tx, sign_tx


@pytest.fixture
def chain() -> Chain:
    chain = Chain.start()
    chain.register(1, 2, 3)
    chain.block(chain.attested("fed_mint", "cs_paid_1", 2_000, card_wallet(1)))
    return chain


def fed_supply(chain: Chain) -> Supply:
    supply = read_one(chain.state, layout.supply("FED"), Supply)
    assert supply is not None
    return supply


def mint_tx(chain: Chain, signers: tuple[Any, ...], *fields: Any) -> Any:
    return chain.cosigned(signers, "fed_mint", *fields)


# -- money in ---------------------------------------------------------------------------------

def test_an_attested_mint_credits_the_wallet_and_counts_as_attested(chain: Chain) -> None:
    before, backing = fed_supply(chain), queries.fed_backing(chain.state)
    outcome = chain.block(chain.attested("fed_mint", "cs_paid_2", 1_500, card_wallet(2)))
    assert chain.balance(card_wallet(2), "FED") == 1_500
    assert fed_supply(chain).minted == before.minted + 1_500
    assert queries.fed_backing(chain.state).attested_minted == backing.attested_minted + 1_500
    assert outcome.results[0].touched == (card_wallet(2),)
    check_full(chain.state)


def test_a_venue_buys_float_by_an_attested_mint_into_its_wallet(chain: Chain) -> None:
    chain.block(chain.attested("fed_mint", "pi_bank_transfer_1", 50_000, BAR_WALLET))
    assert chain.balance(BAR_WALLET, "FED") == FLOAT + 50_000
    check_full(chain.state)


@pytest.mark.parametrize("reference", ["cs_paid_1", "genesis"], ids=["reused", "genesis"])
def test_a_reused_payment_reference_is_refused(chain: Chain, reference: str) -> None:
    assert rejected_code(chain, chain.attested("fed_mint", reference, 10, card_wallet(2))) == "reference_used"


def test_a_mint_needs_the_threshold_of_distinct_treasury_keys(chain: Chain) -> None:
    below = mint_tx(chain, TREASURY[:1], "cs_x", 10, card_wallet(2))  # k - 1 = 1 signature
    assert rejected_code(chain, below) == "below_threshold"
    stranger = mint_tx(chain, (TREASURY[0], BAR), "cs_x", 10, card_wallet(2))  # a place key as the second
    assert rejected_code(chain, stranger) == "not_treasury"
    authorities = mint_tx(chain, AUTHORITIES[:2], "cs_x", 10, card_wallet(2))  # governance is not the treasury
    assert rejected_code(chain, authorities) == "not_treasury"


def test_a_repeated_signer_is_refused_at_decoding(chain: Chain) -> None:
    unsigned = build_unsigned("fed_mint", FedMint("cs_x", 10, card_wallet(2)), b"\1" * 16, chain.height + 5)
    pair = cosign(TREASURY[0], CHAIN, unsigned)
    twice = pack([*unpack(unsigned), [list(pair), list(pair)]])
    with pytest.raises(Rejected) as refused:
        decode_tx(twice, MAX_TX)
    assert refused.value.code == "duplicate_signer"


@pytest.mark.parametrize("changed", ["amount", "wallet"])
def test_signatures_over_another_amount_or_wallet_do_not_verify(chain: Chain, changed: str) -> None:
    nonce, expires_at = b"\2" * 16, chain.height + 5
    signed = build_unsigned("fed_mint", FedMint("cs_y", 10, card_wallet(2)), nonce, expires_at)
    pairs = [cosign(k, CHAIN, signed) for k in TREASURY[:2]]
    other = FedMint("cs_y", 10_000, card_wallet(2)) if changed == "amount" else FedMint("cs_y", 10, ALICE.public_key)
    forged = decode_tx(combine(build_unsigned("fed_mint", other, nonce, expires_at), pairs), MAX_TX)
    assert not forged.verify_signature(CHAIN)
    before = chain.state.snapshot()
    with pytest.raises(BlockTxRejected) as refused:
        execute_block(chain.state, chain.ctx(), [forged])
    assert refused.value.code == "bad_signature" and chain.state.snapshot() == before


def test_no_single_key_can_mint(chain: Chain) -> None:
    """A one-signer envelope is refused for a treasury kind, whoever signs it."""
    for signer in (TREASURY[0], BAR, AUTHORITIES[0]):
        raw = sign_tx_forced(signer, FedMint("cs_z", 10, card_wallet(2)), chain.height + 5)
        with pytest.raises(Rejected) as refused:
            decode_tx(raw, MAX_TX)
        assert refused.value.code == "bad_version"


def sign_tx_forced(signer: Any, body: FedMint, expires_at: int) -> bytes:
    """A version 1 envelope around a treasury body (``sign_tx`` itself refuses to build one)."""
    with pytest.raises(ValueError):
        sign_tx(signer, CHAIN, "fed_mint", body, b"\3" * 16, expires_at)
    unsigned = [1, "fed_mint", signer.public_key, b"\3" * 16, expires_at, body.to_list()]
    return pack([*unsigned, signer.sign("fedow/tx/v1", CHAIN, pack(unsigned))])


def test_a_place_cannot_squat_a_checkout_id(chain: Chain) -> None:
    """A place's own transactions never spend a payment reference: the paying buyer is still credited."""
    chain.block(chain.tx(BAR, "payout_hold", "cs_paid_2", 100))  # the checkout id, as a hold reference
    chain.block(chain.attested("fed_mint", "cs_paid_2", 1_500, card_wallet(2)))
    assert chain.balance(card_wallet(2), "FED") == 1_500
    check_full(chain.state)


def test_a_mint_into_a_dead_card_is_refused(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "lost_card", card_uid(2)), chain.tx(BAR, "void_card", card_uid(3)))
    assert rejected_code(chain, chain.attested("fed_mint", "cs_q", 10, card_wallet(2))) == "card_lost"
    assert rejected_code(chain, chain.attested("fed_mint", "cs_q", 10, card_wallet(3))) == "card_voided"


# -- the venue's float ----------------------------------------------------------------------

def test_a_cash_fed_refill_comes_out_of_the_float(chain: Chain) -> None:
    supply = fed_supply(chain)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(2), "FED", 700))
    assert chain.balance(card_wallet(2), "FED") == 700 and chain.balance(BAR_WALLET, "FED") == FLOAT - 700
    assert fed_supply(chain) == supply  # no FED created
    check_full(chain.state)


def test_a_cash_fed_refill_above_the_float_is_refused_naming_the_float(chain: Chain) -> None:
    overlay_code = rejected_code(chain, chain.tx(BAR, "cash_refill", card_wallet(2), "FED", FLOAT + 1))
    assert overlay_code == "insufficient_float"
    try:
        chain.try_apply(chain.tx(BAR, "cash_refill", card_wallet(2), "FED", FLOAT + 1))
    except Rejected as exc:
        assert str(FLOAT) in exc.detail and "bar" in exc.detail


def test_float_comes_from_sales(chain: Chain) -> None:
    assert rejected_code(chain, chain.tx(CAFE, "cash_refill", card_wallet(2), "FED", 1)) == "insufficient_float"
    chain.block(chain.tx(CAFE, "sale", card_uid(1), "FED", 500))
    chain.block(chain.tx(CAFE, "cash_refill", card_wallet(2), "FED", 500))
    assert chain.balance(CAFE_WALLET, "FED") == 0 and chain.balance(card_wallet(2), "FED") == 500


def test_own_local_assets_keep_their_rules(chain: Chain) -> None:
    minted = read_one(chain.state, layout.supply("BARCOIN"), Supply)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(2), "BARCOIN", 300))  # minted, no float needed
    after = read_one(chain.state, layout.supply("BARCOIN"), Supply)
    assert after is not None and after.minted == (0 if minted is None else minted.minted) + 300
    chain.block(chain.tx(BAR, "refund", card_uid(2), "BARCOIN", 100))  # burnt
    assert chain.balance(card_wallet(2), "BARCOIN") == 200 and chain.balance(BAR_WALLET, "BARCOIN") == 0


def test_a_cash_refund_of_fed_goes_back_into_the_refunding_venue_float(chain: Chain) -> None:
    supply = fed_supply(chain)
    chain.block(chain.tx(CAFE, "refund", card_uid(1), "FED", 600))
    assert chain.balance(card_wallet(1), "FED") == 1_400 and chain.balance(CAFE_WALLET, "FED") == 600
    assert fed_supply(chain) == supply
    check_full(chain.state)


def test_voiding_a_card_moves_its_fed_to_the_voiding_venue(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "BARCOIN", 50))
    chain.block(chain.tx(BAR, "void_card", card_uid(1)))
    assert chain.balance(BAR_WALLET, "FED") == FLOAT + 2_000
    assert chain.balance(card_wallet(1), "FED") == 0 and chain.balance(card_wallet(1), "BARCOIN") == 0
    check_full(chain.state)


# -- money out ----------------------------------------------------------------------------

def test_a_payout_holds_then_the_attested_burn_takes_it_out(chain: Chain) -> None:
    supply = fed_supply(chain)
    chain.block(chain.tx(BAR, "payout_hold", "fedow-payout-1", 5_000))
    assert chain.balance(BAR_WALLET, "FED") == FLOAT - 5_000 and queries.on_hold(chain.state, BAR_WALLET) == 5_000
    assert fed_supply(chain) == supply  # held FED is still in circulation
    assert rejected_code(chain, chain.tx(BAR, "settlement", "cafe", "FED", FLOAT - 4_999)) == "overdraft"
    check_full(chain.state)
    chain.block(chain.attested("fed_burn", "fedow-payout-1", "tr_1", 5_000))
    assert fed_supply(chain).burnt == supply.burnt + 5_000
    assert queries.fed_backing(chain.state).attested_burnt == 5_000
    hold = queries.hold(chain.state, "fedow-payout-1")
    assert hold is not None and (hold.state, hold.paid_by) == ("burnt", "tr_1")
    assert queries.on_hold(chain.state, BAR_WALLET) == 0
    check_full(chain.state)


def test_a_failed_payout_is_released_by_the_treasury(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "payout_hold", "fedow-payout-1", 5_000))
    chain.block(chain.attested("fed_release", "fedow-payout-1"))
    assert chain.balance(BAR_WALLET, "FED") == FLOAT
    assert rejected_code(chain, chain.attested("fed_burn", "fedow-payout-1", "tr_1", 5_000)) == "hold_settled"
    check_full(chain.state)


def test_a_refund_to_the_bank_card_holds_the_card_fed(chain: Chain) -> None:
    chain.block(chain.tx(CAFE, "refund_hold", "fedow-refund-1", card_wallet(1), 800, "pi_1"))
    assert chain.balance(card_wallet(1), "FED") == 1_200
    hold = queries.hold(chain.state, "fedow-refund-1")
    assert hold is not None and (hold.place, hold.payment_intent) == ("cafe", "pi_1")
    chain.block(chain.attested("fed_burn", "fedow-refund-1", "re_1", 800))
    check_full(chain.state)


@pytest.mark.parametrize(("signer", "kind", "fields", "code"), [
    (BAR, "payout_hold", ("fedow-payout-2", FLOAT + 1), "overdraft"),
    (ALICE, "payout_hold", ("fedow-payout-2", 1), "not_place"),
    (BAR, "refund_hold", ("fedow-refund-2", CAFE_WALLET, 1, "pi_1"), "place_wallet"),
    (BAR, "refund_hold", ("fedow-refund-2", card_wallet(1), 2_001, "pi_1"), "overdraft"),
    (key("stranger"), "refund_hold", ("fedow-refund-2", card_wallet(1), 1, "pi_1"), "not_place"),
])
def test_hold_refusals(chain: Chain, signer: Any, kind: str, fields: tuple[Any, ...], code: str) -> None:
    assert rejected_code(chain, chain.tx(signer, kind, *fields)) == code


def test_a_hold_reference_is_usable_once(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "payout_hold", "fedow-payout-1", 10))
    assert rejected_code(chain, chain.tx(CAFE, "payout_hold", "fedow-payout-1", 10)) == "reference_used"


def test_a_payout_without_attestation_is_refused(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "payout_hold", "fedow-payout-1", 5_000))
    one_key = chain.cosigned(TREASURY[:1], "fed_burn", "fedow-payout-1", "tr_1", 5_000)
    assert rejected_code(chain, one_key) == "below_threshold"
    by_place = chain.cosigned((BAR,), "fed_burn", "fedow-payout-1", "tr_1", 5_000)
    assert rejected_code(chain, by_place) == "not_treasury"
    assert rejected_code(chain, chain.cosigned(TREASURY[:1], "fed_release", "fedow-payout-1")) == "below_threshold"


@pytest.mark.parametrize(("fields", "code"), [
    (("fedow-payout-1", "tr_1", 4_999), "amount_mismatch"),
    (("fedow-payout-9", "tr_1", 5_000), "unknown_hold"),
    (("fedow-payout-1", "cs_paid_1", 5_000), "reference_used"),  # a payment's id as the payout's
])
def test_burn_refusals(chain: Chain, fields: tuple[Any, ...], code: str) -> None:
    chain.block(chain.tx(BAR, "payout_hold", "fedow-payout-1", 5_000))
    assert rejected_code(chain, chain.attested("fed_burn", *fields)) == code


def test_a_place_with_fed_on_hold_cannot_be_archived(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "payout_hold", "fedow-payout-1", 5_000))
    archive = chain.govern("archive_place", "bar", [["FED", "cafe"], ["BARCOIN", "cafe"]])
    assert rejected_code(chain, archive) == "funds_on_hold"


# -- the property ------------------------------------------------------------------------

WEAK_SIGNERS = [(TREASURY[0],), (TREASURY[1],), (TREASURY[0], BAR), (TREASURY[2], ALICE), (BAR,),
                (AUTHORITIES[0], AUTHORITIES[1]), (TREASURY[1], *AUTHORITIES[:2])]
"""Signer sets holding fewer than 2 treasury keys."""

references = st.sampled_from(["cs_a", "cs_b", "fedow-payout-1", "fedow-refund-1", "genesis"])
amounts = st.integers(1, 3_000)
wallets = st.sampled_from([card_wallet(1), card_wallet(2), BAR_WALLET, ALICE.public_key])
steps = st.one_of(
    st.tuples(st.just("fed_mint"), st.sampled_from(WEAK_SIGNERS), st.tuples(references, amounts, wallets)),
    st.tuples(st.just("fed_burn"), st.sampled_from(WEAK_SIGNERS), st.tuples(references, references, amounts)),
    st.tuples(st.just("fed_release"), st.sampled_from(WEAK_SIGNERS), st.tuples(references)),
    st.tuples(st.just("payout_hold"), st.sampled_from([BAR, CAFE]), st.tuples(references, amounts)),
    st.tuples(st.just("refund_hold"), st.sampled_from([BAR, CAFE]), st.tuples(references, wallets, amounts,
                                                                               st.just("pi_1"))),
    st.tuples(st.just("cash_refill"), st.sampled_from([BAR, CAFE]), st.tuples(wallets, st.just("FED"), amounts)),
    st.tuples(st.just("refund"), st.sampled_from([BAR, CAFE]), st.tuples(st.just(card_uid(1)), st.just("FED"),
                                                                          amounts)),
    st.tuples(st.just("sale"), st.sampled_from([BAR, CAFE]), st.tuples(st.just(card_uid(1)), st.just("FED"),
                                                                        amounts)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(steps, min_size=1, max_size=12))
def test_fewer_than_k_treasury_keys_never_change_the_fed_supply(sequence: list[tuple[Any, ...]]) -> None:
    chain = Chain.start()
    chain.register(1, 2)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "FED", 5_000))
    supply, backing = fed_supply(chain), queries.fed_backing(chain.state)
    for kind, signers, fields in sequence:
        tx = chain.cosigned(signers, kind, *fields) if isinstance(signers, tuple) else chain.tx(signers, kind, *fields)
        try:
            chain.try_apply(tx)
        except Rejected:
            continue
        chain.block(tx)
    assert fed_supply(chain) == supply
    assert queries.fed_backing(chain.state) == backing
    check_full(chain.state)
