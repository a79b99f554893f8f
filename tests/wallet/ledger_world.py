"""A small federation for ledger tests: two places, a FED federation, a melting local asset.

Builds the genesis document as plain objects (what ``config.genesis`` would
parse) and offers helpers to sign, decode and apply transactions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from wallet import layout
from wallet.bodies import BODY_TYPES, Body
from wallet.execute import BlockContext, BlockOutcome, TxResult, apply_tx, execute_block
from wallet.genesis import genesis_state
from wallet.keys import SigningKey
from wallet.state import DictReader, Overlay
from wallet.tx import Tx, decode_tx, sign_cosigned, sign_tx

CHAIN = "fedow-test"
GENESIS_MS = 1_767_225_600_000
DAY = 86_400_000
MAX_TX = 4096


def key(name: str) -> SigningKey:
    return SigningKey(hashlib.sha256(name.encode()).digest())


AUTHORITIES = tuple(sorted((key("authority"), key("authority-2"), key("authority-3")), key=lambda k: k.public_key))
AUTHORITY_THRESHOLD = 2
AUTHORITY = key("authority")
"""One authority key: a member of the set, powerless alone."""
BAR = key("bar")
CAFE = key("cafe")
ALICE = key("alice")
BOB = key("bob")
VAL1 = key("validator-1")
VAL2 = key("validator-2")
TREASURY = (key("treasury-1"), key("treasury-2"), key("treasury-3"))
"""The devnet-like treasury: 2 of these 3 keys sign every FED mint and burn."""
FLOAT = 100_000
"""FED float of the bar at genesis (what it sells for cash); the café starts without any."""


def params(**changes: int) -> SimpleNamespace:
    values = dict(
        max_block_txs=2000, max_block_bytes=2 * 1024 * 1024, max_tx_bytes=MAX_TX, tx_ttl_blocks=100,
        timeout_propose_ms=400, timeout_prevote_ms=200, timeout_precommit_ms=200, timeout_delta_ms=100,
        timeout_cap_ms=5000, timeout_commit_ms=100, heartbeat_ms=1000, demurrage_rate_ppm=10_000, demurrage_idle_ms=90 * DAY,
        demurrage_period_ms=30 * DAY, demurrage_share_place_ppm=333_333, demurrage_share_common_ppm=333_333,
        demurrage_share_dev_ppm=0, demurrage_share_validators_ppm=333_334, unbonding_ms=21 * DAY,
        evidence_max_age_blocks=100_000, slash_fraction_ppm=50_000, min_validator_stake=1,
        fed_demurrage_rate_ppm=10_000, fed_demurrage_idle_ms=365 * DAY, fed_demurrage_period_ms=30 * DAY,
        cosigned_tx_ttl_blocks=10_000, offline_bond_notice_ms=7 * DAY)
    values.update(changes)
    return SimpleNamespace(**values)


def genesis_doc(fed_melts: bool = False, **param_changes: int) -> SimpleNamespace:
    asset = SimpleNamespace
    return SimpleNamespace(
        chain_id=CHAIN,
        genesis_time_ms=GENESIS_MS,
        authorities=[k.public_key for k in AUTHORITIES],
        authority_threshold=AUTHORITY_THRESHOLD,
        treasury=[k.public_key for k in TREASURY],
        treasury_threshold=2,
        params=params(**param_changes),
        assets=[asset(id="FED", name="Euro fédéré", category="FED", origin_place=None, melting=fed_melts),
                asset(id="BARCOIN", name="Bar coin", category="TLF", origin_place="bar", melting=False),
                asset(id="MELT", name="Monnaie fondante", category="TLF", origin_place="bar", melting=True),
                asset(id="MEMBER", name="Adhésion", category="SUB", origin_place="bar", melting=False),
                asset(id="BADGE", name="Badgeuse", category="BDG", origin_place="bar", melting=False),
                asset(id="CAFEPTS", name="Café points", category="FID", origin_place="cafe", melting=False)],
        places=[SimpleNamespace(id="bar", name="Bar du coin", public_key=BAR.public_key),
                SimpleNamespace(id="cafe", name="Café", public_key=CAFE.public_key)],
        federations=[SimpleNamespace(id="festival", name="Festival", places=["bar", "cafe"],
                                     assets=["FED", "MELT"])],
        validators=[SimpleNamespace(public_key=VAL1.public_key, place="bar", stake=300_000),
                    SimpleNamespace(public_key=VAL2.public_key, place="cafe", stake=100_000)],
        balances=[SimpleNamespace(owner=ALICE.public_key, asset="FED", amount=50_000),
                  SimpleNamespace(owner=layout.place_wallet_id("bar"), asset="FED", amount=FLOAT)],
    )


def card_uid(n: int) -> bytes:
    return n.to_bytes(4, "big")


@dataclass
class Chain:
    """A ledger advanced block by block over an in-memory state."""

    state: DictReader
    height: int = 0
    time_ms: int = GENESIS_MS
    nonce_counter: int = 0
    outcomes: list[BlockOutcome] = field(default_factory=list)

    @classmethod
    def start(cls, fed_melts: bool = False, **param_changes: int) -> Chain:
        return cls(DictReader(genesis_state(genesis_doc(fed_melts, **param_changes))))

    def _nonce(self) -> bytes:
        self.nonce_counter += 1
        return self.nonce_counter.to_bytes(16, "big")

    def tx(self, signer: SigningKey, kind: str, *fields: Any, expires_in: int = 10) -> Tx:
        body: Body = BODY_TYPES[kind].from_list(list(fields))
        return decode_tx(sign_tx(signer, CHAIN, kind, body, self._nonce(), self.height + 1 + expires_in), MAX_TX)

    def cosigned(self, signers: tuple[SigningKey, ...], kind: str, *fields: Any, expires_in: int = 10) -> Tx:
        """A co-signed transaction signed by each of ``signers``."""
        body: Body = BODY_TYPES[kind].from_list(list(fields))
        raw = sign_cosigned(signers, CHAIN, kind, body, self._nonce(), self.height + 1 + expires_in)
        return decode_tx(raw, MAX_TX)

    def attested(self, kind: str, *fields: Any, expires_in: int = 10) -> Tx:
        """A treasury transaction co-signed by a threshold (2) of the 3 treasury keys."""
        return self.cosigned(TREASURY[:2], kind, *fields, expires_in=expires_in)

    def govern(self, kind: str, *fields: Any, expires_in: int = 10) -> Tx:
        """A governance transaction co-signed by a threshold of the authorities."""
        return self.cosigned(AUTHORITIES[:AUTHORITY_THRESHOLD], kind, *fields, expires_in=expires_in)

    def ctx(self, advance_ms: int = 1000, slash: tuple[bytes, ...] = ()) -> BlockContext:
        return BlockContext(CHAIN, self.height + 1, self.time_ms + advance_ms, VAL1.public_key, slash)

    def block(self, *txs: Tx, advance_ms: int = 1000, slash: tuple[bytes, ...] = ()) -> BlockOutcome:
        """Execute and commit a block."""
        ctx = self.ctx(advance_ms, slash)
        outcome = execute_block(self.state, ctx, list(txs))
        self.state.apply(outcome.changes)
        self.height, self.time_ms = ctx.height, ctx.time_ms
        self.outcomes.append(outcome)
        return outcome

    def try_apply(self, tx: Tx, advance_ms: int = 1000) -> tuple[TxResult, dict[bytes, bytes | None]]:
        """Apply one tx on an overlay of the committed state (what the mempool does)."""
        overlay = Overlay(self.state)
        result = apply_tx(overlay, self.ctx(advance_ms), tx)
        return result, overlay.changes()

    def balance(self, wallet_id: bytes, asset_id: str) -> int:
        from wallet.records import Balance
        from wallet.state import read_one
        record = read_one(self.state, layout.balance(wallet_id, asset_id), Balance)
        return 0 if record is None else record.amount

    def register(self, *numbers: int, place: SigningKey = BAR) -> None:
        cards = [[card_uid(n), f"{n:08d}", n.to_bytes(16, "big")] for n in numbers]
        self.block(self.tx(place, "register_cards", cards))


BAR_WALLET = layout.place_wallet_id("bar")
CAFE_WALLET = layout.place_wallet_id("cafe")


def card_wallet(n: int) -> bytes:
    return layout.card_wallet_id(card_uid(n))


def rejected_code(chain: Chain, tx: Tx) -> str:
    """Apply ``tx`` on an overlay; assert it is rejected without changes, as a whole block too.

    Returns the rejection code (the detail is checked to be a sentence).
    """
    from wallet.errors import BlockTxRejected, Rejected
    overlay = Overlay(chain.state)
    before = chain.state.snapshot()
    try:
        apply_tx(overlay, chain.ctx(), tx)
    except Rejected as exc:
        assert overlay.changes() == {}, "a rejected transaction must change nothing"
        assert len(exc.detail) > 10
        code = exc.code
    else:
        raise AssertionError(f"{tx.kind} was applied, a rejection was expected")
    try:
        execute_block(chain.state, chain.ctx(), [tx])
    except BlockTxRejected as exc:
        assert exc.index == 0 and exc.code == code and exc.txid == tx.txid
    else:
        raise AssertionError("a block with a rejected transaction must be invalid")
    assert chain.state.snapshot() == before
    return code
