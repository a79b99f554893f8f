"""The envelope: canonical decoding, field checks, txid, signatures, chain ids, replay and expiry."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from ledger_world import ALICE, BAR, CHAIN, MAX_TX, Chain, card_uid, key, rejected_code

from wallet.bodies import BODY_TYPES, CreateFederation, Sale, Transfer
from wallet.codec import pack, unpack
from wallet.errors import Rejected
from wallet.tx import (MAX_COSIGNERS, build_unsigned, combine, cosign, decode_tx, read_unsigned, sign_cosigned,
                       sign_tx)

NONCE = b"\1" * 16


def signed_sale(expires_at: int = 5) -> bytes:
    return sign_tx(BAR, CHAIN, "sale", Sale(card_uid(1), "FED", 100), NONCE, expires_at)


def envelope(**changes: object) -> list[object]:
    items = unpack(signed_sale())
    order = ["version", "kind", "signer", "nonce", "expires_at", "body", "signature"]
    for name, value in changes.items():
        items[order.index(name)] = value
    return items


def code_of(data: bytes) -> str:
    with pytest.raises(Rejected) as caught:
        decode_tx(data, MAX_TX)
    return caught.value.code


def test_round_trip_txid_and_signature() -> None:
    tx = decode_tx(signed_sale(), MAX_TX)
    assert tx.body == Sale(card_uid(1), "FED", 100) and tx.signer == BAR.public_key
    assert tx.unsigned == pack([1, "sale", BAR.public_key, NONCE, 5, [card_uid(1), "FED", 100]])
    import hashlib
    assert tx.txid == hashlib.sha256(tx.unsigned).digest()
    assert tx.verify_signature(CHAIN)
    assert not tx.verify_signature("another-chain")


def test_tampered_body_fails_signature() -> None:
    tampered = pack(envelope(body=[card_uid(1), "FED", 101]))
    assert not decode_tx(tampered, MAX_TX).verify_signature(CHAIN)
    stolen = pack(envelope(signer=ALICE.public_key))
    assert not decode_tx(stolen, MAX_TX).verify_signature(CHAIN)


@pytest.mark.parametrize("changes, code", [
    ({"version": 3}, "bad_version"),
    ({"version": 2}, "bad_envelope"),
    ({"kind": "steal"}, "unknown_kind"),
    ({"kind": 7}, "bad_envelope"),
    ({"signer": b"\1" * 31}, "bad_envelope"),
    ({"nonce": b"\1" * 8}, "bad_envelope"),
    ({"expires_at": -1}, "bad_envelope"),
    ({"expires_at": "5"}, "bad_envelope"),
    ({"signature": b"\0" * 63}, "bad_envelope"),
    ({"body": [card_uid(1), "FED"]}, "bad_body"),
    ({"body": [card_uid(1), "fed!", 100]}, "bad_field"),
    ({"body": [card_uid(1), "FED", 0]}, "bad_amount"),
])
def test_envelope_field_rejections(changes: dict[str, object], code: str) -> None:
    assert code_of(pack(envelope(**changes))) == code


def test_non_canonical_and_oversize() -> None:
    data = signed_sale()
    # expires_at 5 encoded as uint16 instead of a fixint: same value, not the shortest form
    items = unpack(data)
    long_form = pack(items[:4]).replace(b"\x94", b"\x97", 1) + b"\xcd\x00\x05" + pack(items[5]) + pack(items[6])
    assert code_of(long_form) == "non_canonical"
    assert code_of(pack(envelope()[:6])) == "bad_envelope"
    assert code_of(data + b"\x00") == "malformed"
    with pytest.raises(Rejected) as caught:
        decode_tx(data, len(data) - 1)
    assert caught.value.code == "oversize"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(data: bytes) -> None:
    try:
        decode_tx(data, MAX_TX)
    except Rejected as exc:
        assert exc.code and exc.detail


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(BODY_TYPES)), st.lists(st.one_of(st.integers(), st.binary(max_size=40),
                                                               st.text(max_size=20), st.none(), st.booleans()),
                                                     max_size=6))
def test_random_bodies_are_rejected_with_a_reason_or_accepted(kind: str, fields: list[object]) -> None:
    try:
        body = BODY_TYPES[kind].from_list(fields)
    except Rejected as exc:
        assert exc.code in ("bad_body", "bad_field", "bad_amount") and exc.detail
    else:
        assert BODY_TYPES[kind].from_list(body.to_list()) == body


def test_replay_and_expiry_windows() -> None:
    chain = Chain.start()
    tx = chain.tx(ALICE, "transfer", key("z").public_key, "FED", 10, expires_in=3)
    chain.block(tx)
    assert rejected_code(chain, tx) == "replay"
    chain.block()
    chain.block()
    chain.block()
    assert rejected_code(chain, tx) == "expired"
    assert rejected_code(chain, chain.tx(ALICE, "transfer", key("z").public_key, "FED", 1, expires_in=101)) \
        == "expiry_too_far"


def test_expired_txids_are_forgotten() -> None:
    from wallet import layout
    chain = Chain.start()
    tx = chain.tx(ALICE, "transfer", key("z").public_key, "FED", 10, expires_in=0)
    chain.block(tx)
    assert chain.state.get(layout.txid(tx.txid)) is not None
    chain.block()
    assert chain.state.get(layout.txid(tx.txid)) is None


def test_bad_signature_makes_the_block_invalid() -> None:
    from wallet.errors import BlockTxRejected
    from wallet.execute import execute_block
    chain = Chain.start()
    good = chain.tx(ALICE, "transfer", key("z").public_key, "FED", 10)
    items = unpack(sign_tx(key("mallory"), CHAIN, "transfer", Transfer(key("m").public_key, "FED", 10), NONCE, 5))
    items[2] = ALICE.public_key  # claims to be Alice, signed by mallory
    forged = decode_tx(pack(items), MAX_TX)
    with pytest.raises(BlockTxRejected) as caught:
        execute_block(chain.state, chain.ctx(), [good, forged])
    assert (caught.value.index, caught.value.code) == (1, "bad_signature")
    wrong_chain = decode_tx(sign_tx(ALICE, "other-chain", "transfer", Transfer(key("z").public_key, "FED", 1),
                                    NONCE, 5), MAX_TX)
    with pytest.raises(BlockTxRejected) as caught:
        execute_block(chain.state, chain.ctx(), [wrong_chain])
    assert caught.value.code == "bad_signature"


def test_block_with_more_than_max_block_txs_is_invalid() -> None:
    from wallet.execute import current_params, execute_block
    chain = Chain.start(max_block_txs=2)
    assert current_params(chain.state).max_block_txs == 2
    txs = [chain.tx(ALICE, "transfer", key("z").public_key, "FED", n) for n in (1, 2, 3)]
    with pytest.raises(Rejected) as caught:
        execute_block(chain.state, chain.ctx(), txs)
    assert caught.value.code == "too_many_txs"


def test_version_1_bytes_and_txid_are_unchanged() -> None:
    """Golden vector from before co-signed transactions existed: same bytes, same txid."""
    import hashlib
    from wallet.keys import SigningKey
    raw = sign_tx(SigningKey(hashlib.sha256(b"bar").digest()), "fedow-test", "sale",
                  Sale(bytes.fromhex("04a1b2c3"), "FED", 250), bytes(range(16)), 42)
    assert raw.hex() == (
        "9701a473616c65c420cca45b406ad886997c34d86f341b212153a1cc813e3ad999a3e1516e82e81781c410000102030405060708"
        "090a0b0c0d0e0f2a93c40404a1b2c3a3464544ccfac4403b57ba11ed52035c01bd6025899d6a5777114ca83471af1ebd6ba8363d"
        "94199e9f98bbbe56e7526c8b2059434de7833c1e70dc2aff57228291373ee8b56e050e")
    tx = decode_tx(raw, MAX_TX)
    assert tx.txid.hex() == "bfc6b7e4e9db2a402cc2109c4c471a9c8cc5799ba0096c46062da95b14639bb3"
    assert tx.version == 1 and not tx.cosigned and tx.signers == (tx.signer,)


FEDERATION = CreateFederation("north", "North")
SIGNERS = [key(f"signer-{i}") for i in range(3)]


def test_cosigned_round_trip_in_any_order() -> None:
    """Each signer signs the unsigned part alone; any order of gathering gives the same bytes and txid."""
    import hashlib
    unsigned = build_unsigned("create_federation", FEDERATION, NONCE, 7)
    assert unsigned == pack([2, "create_federation", NONCE, 7, ["north", "North"]])
    draft = read_unsigned(unsigned, MAX_TX)
    assert draft.body == FEDERATION and draft.txid == hashlib.sha256(unsigned).digest()
    signatures = [cosign(signer, CHAIN, unsigned) for signer in SIGNERS]
    raw = combine(unsigned, signatures)
    assert combine(unsigned, reversed(signatures)) == raw == combine(unsigned, signatures + signatures[:1])
    assert raw == sign_cosigned(SIGNERS, CHAIN, "create_federation", FEDERATION, NONCE, 7)
    tx = decode_tx(raw, MAX_TX)
    assert tx.cosigned and tx.txid == draft.txid and tx.unsigned == unsigned
    assert tx.signers == tuple(sorted(signer.public_key for signer in SIGNERS)) and tx.signer == tx.signers[0]
    assert tx.verify_signature(CHAIN) and not tx.verify_signature("another-chain")
    fewer = decode_tx(combine(unsigned, signatures[:2]), MAX_TX)
    assert fewer.txid == tx.txid and fewer.verify_signature(CHAIN)  # the txid names the action, not the signers


def test_one_bad_signature_spoils_a_cosigned_transaction() -> None:
    unsigned = build_unsigned("create_federation", FEDERATION, NONCE, 7)
    other = build_unsigned("create_federation", CreateFederation("south", "South"), NONCE, 7)
    pairs = [cosign(SIGNERS[0], CHAIN, unsigned), cosign(SIGNERS[1], CHAIN, other)]
    assert not decode_tx(combine(unsigned, pairs), MAX_TX).verify_signature(CHAIN)


def cosigned_code(items: list[object]) -> str:
    return code_of(pack(items))


def test_cosigned_envelope_shape_rejections() -> None:
    unsigned = build_unsigned("create_federation", FEDERATION, NONCE, 7)
    head = unpack(unsigned)
    pairs = sorted([list(cosign(signer, CHAIN, unsigned)) for signer in SIGNERS])
    assert cosigned_code([*head, list(reversed(pairs))]) == "bad_envelope"          # not sorted by key
    assert cosigned_code([*head, [pairs[0], pairs[0]]]) == "duplicate_signer"
    assert cosigned_code([*head, []]) == "bad_envelope"                            # no signature
    assert cosigned_code([*head, [[pairs[0][0], b"\0" * 63]]]) == "bad_envelope"
    assert cosigned_code([*head, [pairs[0] + [b""]]]) == "bad_envelope"
    many = [[bytes([i]) * 32, b"\0" * 64] for i in range(MAX_COSIGNERS + 1)]
    assert cosigned_code([*head, many]) == "bad_envelope"                          # bounded count
    assert cosigned_code([*head[:4], pairs]) == "bad_envelope"                     # 5 fields
    # the kind fixes the envelope: no single-signer governance, no co-signed sale
    single = unpack(signed_sale())
    assert cosigned_code([2, "sale", NONCE, 7, single[5], pairs]) == "bad_version"
    assert cosigned_code([1, "create_federation", SIGNERS[0].public_key, NONCE, 7, ["north", "North"],
                          b"\0" * 64]) == "bad_version"
    with pytest.raises(ValueError):
        sign_tx(SIGNERS[0], CHAIN, "create_federation", FEDERATION, NONCE, 7)
    with pytest.raises(ValueError):
        build_unsigned("sale", Sale(card_uid(1), "FED", 1), NONCE, 7)
    with pytest.raises(ValueError):
        combine(unsigned, [])


def test_cosigned_txid_is_independent_of_the_signatures_but_replay_still_refused() -> None:
    """Two signature sets over one action are one transaction: it applies once."""
    from ledger_world import AUTHORITIES
    chain = Chain.start()
    first = chain.govern("create_federation", "north", "North")
    other_pair = decode_tx(combine(first.unsigned, [cosign(k, CHAIN, first.unsigned) for k in AUTHORITIES[1:]]),
                           MAX_TX)
    assert other_pair.txid == first.txid and other_pair.signers != first.signers
    chain.block(first)
    assert rejected_code(chain, other_pair) == "replay"


def test_cosigned_transactions_may_expire_later_so_signatures_can_be_gathered_by_hand() -> None:
    chain = Chain.start()  # tx_ttl_blocks 100, cosigned_tx_ttl_blocks 10_000
    assert rejected_code(chain, chain.tx(ALICE, "transfer", key("z").public_key, "FED", 1, expires_in=200)) \
        == "expiry_too_far"
    chain.block(chain.govern("create_federation", "north", "North", expires_in=9_000))
    assert rejected_code(chain, chain.govern("create_federation", "south", "South", expires_in=10_001)) \
        == "expiry_too_far"
