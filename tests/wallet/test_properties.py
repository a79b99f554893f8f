"""Properties over random valid and invalid sequences: money is conserved, execution is deterministic."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from ledger_world import (ALICE, AUTHORITIES, AUTHORITY, BAR, BOB, CAFE, CHAIN, DAY, MAX_TX, VAL1, VAL2, Chain, card_uid,
                          card_wallet, genesis_doc, key)

from wallet import layout
from wallet.bodies import BODY_TYPES
from wallet.codec import pack
from wallet.errors import Rejected
from wallet.execute import build_block, execute_block
from wallet.keys import SigningKey
from wallet.tx import TX_DOMAIN, Tx, decode_tx
from wallet.genesis import genesis_state
from wallet.invariants import check_full, recount
from wallet.state import DictReader

CARDS = 4
USERS = [ALICE, BOB]
PLACES = [BAR, CAFE]
amounts = st.integers(1, 30_000)
assets = st.sampled_from(["FED", "MELT", "BARCOIN"])
card = st.integers(1, CARDS)
held = st.sampled_from([100, 500])
"""Hold and burn amounts from a small set, so that burns often match their hold."""

actions = st.one_of(
    st.tuples(st.just("cash_refill"), st.sampled_from(PLACES), card, assets, amounts),
    st.tuples(st.just("sale"), st.sampled_from(PLACES), card, assets, amounts),
    st.tuples(st.just("refund"), st.sampled_from(PLACES), card, assets, amounts),
    st.tuples(st.just("transfer"), st.sampled_from(USERS), st.sampled_from(USERS), assets, amounts),
    st.tuples(st.just("qr_sale"), st.sampled_from(USERS), st.sampled_from(["bar", "cafe"]), assets, amounts),
    st.tuples(st.just("link_card"), st.sampled_from(USERS), card),
    st.tuples(st.just("void_card"), st.sampled_from(PLACES), card),
    st.tuples(st.just("settlement"), st.sampled_from(PLACES), st.sampled_from(["bar", "cafe"]), assets, amounts),
    st.tuples(st.just("fed_mint"), st.sampled_from(USERS), amounts),
    st.tuples(st.just("payout_hold"), st.sampled_from(PLACES), st.integers(0, 4), held),
    st.tuples(st.just("refund_hold"), st.sampled_from(PLACES), st.integers(0, 4), held, card),
    st.tuples(st.just("fed_burn"), st.integers(0, 4), held),
    st.tuples(st.just("fed_release"), st.integers(0, 4)),
    st.tuples(st.just("stake"), st.sampled_from([VAL1, VAL2]), amounts),
    st.tuples(st.just("unstake"), st.sampled_from([VAL1, VAL2]), amounts),
    st.tuples(st.just("primary"), st.sampled_from(PLACES), card),
    st.tuples(st.just("mint"), st.just(BAR), st.sampled_from(["MELT", "BARCOIN"]), amounts),
    st.tuples(st.just("lost_card"), st.sampled_from(PLACES), card),
    st.tuples(st.just("federation_asset"), st.just(AUTHORITY), st.sampled_from(["MELT", "BARCOIN"]),
              st.booleans()),
    st.tuples(st.just("remove_validator"), st.just(AUTHORITY), st.sampled_from([VAL1, VAL2])),
    st.tuples(st.just("admit_validator"), st.just(AUTHORITY), st.sampled_from([VAL1, VAL2])),
    st.tuples(st.just("fund_payout"), st.just(AUTHORITY), st.sampled_from(USERS), assets, amounts),
    st.tuples(st.just("badge"), st.just(BAR), card),
    st.tuples(st.just("archive_place"), st.just(AUTHORITY), st.sampled_from(["bar", "cafe"]), st.booleans()),
    st.tuples(st.just("offline_bond"), st.sampled_from(PLACES), amounts),
    st.tuples(st.just("offline_unbond"), st.sampled_from(PLACES), amounts),
    st.tuples(st.just("offline"), st.sampled_from(PLACES), st.integers(1, 6), card, amounts,
              st.sampled_from(["sale", "cash_refill", "badge"])),
)
blocks = st.lists(st.tuples(st.lists(actions, max_size=8), st.sampled_from([1000, 40 * DAY, 130 * DAY]),
                            st.booleans()), min_size=1, max_size=6)


class Signing:
    """``chain.tx``, except that co-signed kinds get a threshold of their key set (authorities, treasury)."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain

    def tx(self, signer: SigningKey | None, kind: str, *fields: Any) -> Tx:
        key_set = BODY_TYPES[kind].KEY_SET
        if key_set == "treasury":
            return self.chain.attested(kind, *fields)
        if key_set:
            return self.chain.govern(kind, *fields)
        assert signer is not None
        return self.chain.tx(signer, kind, *fields)


def to_tx(chain_: Chain, action: tuple[Any, ...], serial: int) -> Any:
    chain = Signing(chain_)
    kind = action[0]
    if kind == "archive_place":
        other = "cafe" if action[2] == "bar" else "bar"
        destinations = [[asset, other] for asset in ("BARCOIN", "FED", "MELT")] if action[3] else []
        return chain.tx(action[1], kind, action[2], destinations)
    if kind in ("cash_refill",):
        return chain.tx(action[1], kind, card_wallet(action[2]), action[3], action[4])
    if kind in ("sale", "refund"):
        return chain.tx(action[1], kind, card_uid(action[2]), action[3], action[4])
    if kind == "transfer":
        return chain.tx(action[1], kind, action[2].public_key, action[3], action[4])
    if kind in ("qr_sale", "settlement"):
        return chain.tx(action[1], kind, action[2], action[3], action[4])
    if kind == "link_card":
        return chain.tx(action[1], kind, f"{action[2]:08d}")
    if kind == "void_card":
        return chain.tx(action[1], kind, card_uid(action[2]))
    if kind == "fed_mint":
        return chain.tx(None, kind, f"checkout-{serial % 7}", action[2], action[1].public_key)
    if kind == "payout_hold":
        return chain.tx(action[1], kind, f"hold-{action[2]}", action[3])
    if kind == "refund_hold":
        return chain.tx(action[1], kind, f"hold-{action[2]}", card_wallet(action[4]), action[3], "pi_1")
    if kind == "fed_burn":
        return chain.tx(None, kind, f"hold-{action[1]}", f"tr-{serial}", action[2])
    if kind == "fed_release":
        return chain.tx(None, kind, f"hold-{action[1]}")
    if kind in ("stake", "unstake", "offline_bond", "offline_unbond"):
        return chain.tx(action[1], kind, action[2])
    if kind == "lost_card":
        return chain.tx(action[1], kind, card_uid(action[2]))
    if kind == "federation_asset":
        return chain.tx(action[1], kind, "festival", action[2], action[3])
    if kind == "remove_validator":
        return chain.tx(action[1], kind, action[2].public_key)
    if kind == "admit_validator":
        return chain.tx(action[1], kind, action[2].public_key, "cafe")
    if kind == "fund_payout":
        return chain.tx(action[1], kind, "common", action[3], action[2].public_key, action[4])
    if kind == "badge":
        return chain.tx(action[1], kind, card_uid(action[2]), "BADGE")
    if kind == "offline":
        operation = {"sale": ["sale", [card_uid(action[3]), "FED", action[4]]],
                     "cash_refill": ["cash_refill", [card_wallet(action[3]), "FED", action[4]]],
                     "badge": ["badge", [card_uid(action[3]), "BADGE"]]}[action[5]]
        return chain.tx(action[1], kind, bytes(16), action[2], operation)   # numbers repeat: replays
    if kind == "primary":
        return chain.tx(action[1], "set_primary_card", card_uid(action[2]), True)
    return chain.tx(action[1], kind, action[2], action[3])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks)
def test_random_blocks_conserve_money_and_replay_identically(plan: list[Any]) -> None:
    chain = Chain.start(demurrage_idle_ms=30 * DAY)
    chain.register(*range(1, CARDS + 1))
    chain.block(*[chain.tx(BAR, "cash_refill", card_wallet(n), "MELT", 20_000) for n in range(1, CARDS + 1)])
    replica = DictReader(chain.state.snapshot())
    serial = 0
    for actions_in_block, advance_ms, slash in plan:
        candidates = []
        for action in actions_in_block:
            serial += 1
            candidates.append(to_tx(chain, action, serial))
        ctx = chain.ctx(advance_ms, (VAL2.public_key,) if slash else ())
        built = build_block(chain.state, ctx, candidates, max_txs=100, max_bytes=1 << 20)
        replayed = execute_block(replica, ctx, list(built.txs))
        assert replayed.changes == built.outcome.changes
        assert replayed.validator_updates == built.outcome.validator_updates
        chain.state.apply(built.outcome.changes)
        replica.apply(replayed.changes)
        chain.height, chain.time_ms = ctx.height, ctx.time_ms
        check_full(chain.state)
        assert all(amount >= 0 for amount in recount(chain.state).values())
    assert replica.snapshot() == chain.state.snapshot()


def test_genesis_is_deterministic() -> None:
    assert genesis_state(genesis_doc()) == genesis_state(genesis_doc())
    check_full(DictReader(genesis_state(genesis_doc())))


def test_a_record_cache_across_blocks_changes_nothing() -> None:
    from wallet.state import RecordCache
    plain, cached = Chain.start(), Chain.start()
    cache = RecordCache()
    for chain in (plain, cached):
        chain.register(1, 2)
    for step in range(4):
        txs = [plain.tx(BAR, "cash_refill", card_wallet(1 + step % 2), "FED", 100 + step),
               plain.tx(CAFE, "sale", card_uid(1 + step % 2), "FED", 50)]
        ctx = plain.ctx()
        expected = execute_block(plain.state, ctx, txs)
        outcome = execute_block(cached.state, ctx, txs, cache=cache)
        assert outcome.changes == expected.changes
        for chain, changes in ((plain, expected.changes), (cached, outcome.changes)):
            chain.state.apply(changes)
            chain.height, chain.time_ms = ctx.height, ctx.time_ms
        cache.forget(outcome.changes)
    assert cached.state.snapshot() == plain.state.snapshot()


ATTEMPTS = [("create_place", ("shop", "Shop", key("shop").public_key)), ("archive_place", ("cafe", [])),
            ("archive_place", ("bar", [["FED", "cafe"], ["MELT", "cafe"], ["BARCOIN", ALICE.public_key]])),
            ("replace_place_key", ("bar", ALICE.public_key)), ("rotate_place_key", ("bar", ALICE.public_key)),
            ("set_keys", ("authority", sorted([ALICE.public_key, key("stranger").public_key]), 1)),
            ("set_keys", ("treasury", [ALICE.public_key], 1)),
            ("create_asset", ("SHOP", "Shop", "TNF", "bar", False)), ("archive_asset", ("BARCOIN",)),
            ("create_federation", ("north", "North")), ("federation_place", ("festival", "bar", False)),
            ("federation_asset", ("festival", "FED", False)), ("admit_validator", (ALICE.public_key, "bar")),
            ("remove_validator", (VAL2.public_key,)), ("set_params", ([["min_validator_stake", 10**9]],)),
            ("fund_payout", ("common", "FED", ALICE.public_key, 1))]
GOVERNED_PREFIXES = (layout.KEY_SET, layout.PARAMS, layout.PLACE, layout.PLACE_BY_KEY, layout.ASSET,
                     layout.FEDERATION, layout.VALIDATOR)


def governed_state(state: DictReader) -> dict[bytes, bytes]:
    return {k: v for k, v in state.snapshot().items() if k.startswith(GOVERNED_PREFIXES)}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(AUTHORITIES),
       st.lists(st.tuples(st.sampled_from(ATTEMPTS), st.sets(st.integers(0, 3), min_size=1), st.booleans()),
                min_size=1, max_size=12))
def test_fewer_than_k_authority_keys_never_govern(insider: SigningKey, attempts: list[Any]) -> None:
    """Keys holding k-1 = 1 authority key (plus a user's, a validator's and a stranger's) change no
    key set, parameter, place, asset, federation or validator, whatever they sign, however they sign it."""
    chain = Chain.start()
    chain.block(slash=(VAL2.public_key,))  # something in the common fund to steal
    before = governed_state(chain.state)
    attacker = [insider, ALICE, VAL1, key("stranger")]
    for (kind, fields), chosen, single in attempts:
        signers = tuple(attacker[i] for i in sorted(chosen))
        if not BODY_TYPES[kind].KEY_SET:
            tx = chain.tx(signers[0], kind, *fields)
        elif single:  # the old single-signer envelope of a governance kind: refused on decoding
            body = BODY_TYPES[kind].from_list(list(fields)).to_list()
            unsigned = pack([1, kind, signers[0].public_key, b"\7" * 16, chain.height + 5, body])
            with pytest.raises(Rejected):
                decode_tx(pack([1, kind, signers[0].public_key, b"\7" * 16, chain.height + 5, body,
                                signers[0].sign(TX_DOMAIN, CHAIN, unsigned)]), MAX_TX)
            continue
        else:
            tx = chain.cosigned(signers, kind, *fields)
        built = build_block(chain.state, chain.ctx(), [tx], max_txs=10, max_bytes=1 << 20)
        assert not built.txs, f"{kind} signed by {len(signers)} attacker keys was applied"
        chain.block()
    assert governed_state(chain.state) == before
