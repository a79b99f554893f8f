"""JSON views of ledger records, transactions and blocks.

Bytes become lower-case hex, tuples become lists; field names are the records'
own, so the JSON reads like docs/contracts.md. A wallet or key is shown as hex
with its ``fedow1`` address next to it where people copy it between screens.
"""

from __future__ import annotations

from typing import Any

from fedow_node.iso_time import iso_time
from wallet import queries
from wallet.bodies import Body
from wallet.block import Block
from wallet.keys import encode_address
from wallet.records import Card, Membership, Place, Validator
from wallet.state import StateReader
from wallet.tx import Tx

__all__ = ["block_time_view", "block_view", "body_view", "card_view", "jsonable", "membership_view", "place_view", "record_view",
           "tx_view", "validator_view", "wallet_view"]

Json = dict[str, Any]


def jsonable(value: Any) -> Any:
    """Bytes to hex, tuples and lists to lists, a nested body to an object, recursively; other JSON values unchanged."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (tuple, list)):
        return [jsonable(item) for item in value]
    if isinstance(value, Body):  # an offline operation's own body
        return {"op": value.KIND, **{name: jsonable(getattr(value, name)) for name, _check in value.SCHEMA}}
    return value


def block_time_view(time_ms: int) -> Json:
    """A block time as the API shows it: ms since the epoch and UTC ISO 8601."""
    return {"time_ms": time_ms, "time": iso_time(time_ms)}


def record_view(record: Any) -> Json:
    """Every field of a slotted record dataclass, in field order."""
    return {name: jsonable(getattr(record, name)) for name in record.__dataclass_fields__}


def membership_view(asset_id: str, membership: Membership, now_ms: int) -> Json:
    return {"asset": asset_id, "start_ms": membership.start_ms, "expiry_ms": membership.expiry_ms,
            "active": membership.start_ms <= now_ms < membership.expiry_ms}


def wallet_view(reader: StateReader, wallet_id: bytes, now_ms: int) -> Json:
    """Balances (with the demurrage a melting one would pay now), memberships and passages."""
    info = queries.wallet_info(reader, wallet_id)
    return {
        "wallet": wallet_id.hex(),
        "address": encode_address(wallet_id),
        "kind": None if info is None else info.kind,
        "balances": [{"asset": entry.asset_id, "amount": entry.balance.amount,
                      "amount_now": queries.projected_amount(reader, wallet_id, entry.asset_id, now_ms),
                      "last_activity_ms": entry.balance.last_activity_ms}
                     for entry in queries.balances(reader, wallet_id)],
        "memberships": [membership_view(asset_id, record, now_ms)
                        for asset_id, record in queries.memberships(reader, wallet_id)],
        "badges": [{"asset": asset_id, "count": record.count, "last_ms": record.last_ms}
                   for asset_id, record in queries.badges(reader, wallet_id)],
    }


def card_view(reader: StateReader, card: Card, now_ms: int) -> Json:
    """A card with the wallet it pays from (its owner's once linked)."""
    return {
        "uid": card.uid.hex(), "number": card.number, "qr_id": card.qr_id.hex(),
        "origin_place": card.origin_place, "primary_places": list(card.primary_places),
        "state": card.state, "owner": None if card.owner is None else card.owner.hex(),
        "card_wallet": card.wallet.hex(),
        "paying_wallet": wallet_view(reader, card.paying_wallet, now_ms),
    }


def place_view(place: Place) -> Json:
    return {**record_view(place), "address": encode_address(place.public_key)}


def validator_view(validator: Validator, power: int) -> Json:
    return {**record_view(validator), "address": encode_address(validator.public_key), "power": power}


def body_view(tx: Tx) -> Json:
    """A transaction's body by field name (``Body.SCHEMA`` order)."""
    return {name: jsonable(getattr(tx.body, name)) for name, _check in tx.body.SCHEMA}


def tx_view(tx: Tx) -> Json:
    """A decoded transaction: envelope fields, the body by field name, every (key, signature).

    ``signer`` is the one signer (version 1) or the lowest co-signer's key (version 2).
    """
    return {"txid": tx.txid.hex(), "version": tx.version, "kind": tx.kind, "signer": tx.signer.hex(),
            "signatures": [{"public_key": key.hex(), "signature": signature.hex()} for key, signature in tx.signatures],
            "nonce": tx.nonce.hex(), "expires_at": tx.expires_at, "body": body_view(tx), "size": tx.size}


def block_view(block: Block, block_hash: bytes, txids: list[str]) -> Json:
    header = block.header
    return {
        "height": header.height, "hash": block_hash.hex(), "chain_id": header.chain_id,
        **block_time_view(header.time_ms), "prev_block_hash": header.prev_block_hash.hex(),
        "proposer": header.proposer.hex(), "txs_root": header.txs_root.hex(),
        "state_hash": header.state_hash.hex(), "last_commit_hash": header.last_commit_hash.hex(),
        "evidence_hash": header.evidence_hash.hex(), "txids": txids, "evidence": len(block.evidence),
        "version": header.version,
    }
