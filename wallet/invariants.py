"""Money invariants, checked after every block; a failure halts the node (InvariantBroken).

1. Per asset: held == minted - burnt, where ``held`` (balances + locked stake +
   unbonding + pools + FED holds + offline bonds) is a running total kept by the book; every movement
   updates it by its own delta, so a rule that credits without debiting shows.
2. FED backing: the FED in circulation (balances + stake + unbonding + pools +
   holds + offline bonds) equals what the treasury attested as received minus what it attested
   as paid out (genesis FED counts as attested), and FED is minted and burnt only
   with that attestation: minted == attested_minted, burnt == attested_burnt.

:func:`check_block` is O(assets) per block; :func:`recount` recomputes every
total from the records themselves, for tests and audits.
"""

from __future__ import annotations

from wallet import layout
from wallet.errors import InvariantBroken
from wallet.records import HOLD_HELD, Amount, Balance, FedBacking, Hold, OfflineBondRecord, Pointer, Supply, Validator
from wallet.state import StateReader, read_all, read_one


def check_block(reader: StateReader) -> None:
    """Raise InvariantBroken when a running total disagrees with the supply rules."""
    for key, supply in read_all(reader, layout.SUPPLY, Supply):
        asset_id = layout.asset_of(layout.SUPPLY, key)
        if supply.held != supply.minted - supply.burnt or supply.held < 0:
            raise InvariantBroken(f"asset {asset_id}: held {supply.held} != minted {supply.minted} "
                                  f"- burnt {supply.burnt}")
    fed = read_one(reader, layout.FED_ASSET, Pointer)
    if fed is None:
        return
    supply = read_one(reader, layout.supply(fed.target), Supply) or Supply(0, 0, 0)
    backing = read_one(reader, layout.FED_BACKING, FedBacking) or FedBacking(0, 0)
    if (supply.minted, supply.burnt) != (backing.attested_minted, backing.attested_burnt):
        raise InvariantBroken(f"FED minted {supply.minted} and burnt {supply.burnt} differ from what the treasury "
                              f"attested: minted {backing.attested_minted}, burnt {backing.attested_burnt}")
    if supply.held != backing.attested_minted - backing.attested_burnt:
        raise InvariantBroken(f"FED in circulation {supply.held} != attested minted {backing.attested_minted} "
                              f"- attested burnt {backing.attested_burnt}")


def recount(reader: StateReader) -> dict[str, int]:
    """Money held per asset, summed from every balance, stake, unbonding entry, pool, FED hold and offline bond."""
    held: dict[str, int] = {}
    for key, balance in read_all(reader, layout.BALANCE, Balance):
        asset_id = layout.split_balance(key)[1]
        held[asset_id] = held.get(asset_id, 0) + balance.amount
    for key, pool in read_all(reader, layout.POOL, Amount):
        asset_id = layout.asset_of(layout.POOL + layout.POOL_COMMON, key)  # one-byte pool kinds
        held[asset_id] = held.get(asset_id, 0) + pool.value
    fed = read_one(reader, layout.FED_ASSET, Pointer)
    if fed is not None:
        for _key, validator in read_all(reader, layout.VALIDATOR, Validator):
            held[fed.target] = held.get(fed.target, 0) + validator.stake + validator.unbonding
        for _key, hold in read_all(reader, layout.HOLD, Hold):
            if hold.state == HOLD_HELD:
                held[fed.target] = held.get(fed.target, 0) + hold.amount
        for _key, bond in read_all(reader, layout.OFFLINE_BOND, OfflineBondRecord):
            held[fed.target] = held.get(fed.target, 0) + bond.total
    return dict(sorted(held.items()))


def check_full(reader: StateReader) -> None:
    """The audit: recounted holdings must equal the running totals, then :func:`check_block`."""
    counted = recount(reader)
    for key, supply in read_all(reader, layout.SUPPLY, Supply):
        asset_id = layout.asset_of(layout.SUPPLY, key)
        if counted.get(asset_id, 0) != supply.held:
            raise InvariantBroken(f"asset {asset_id}: recount {counted.get(asset_id, 0)} != running total "
                                  f"{supply.held}")
    on_hold: dict[bytes, int] = {}
    for _key, hold in read_all(reader, layout.HOLD, Hold):
        if hold.state == HOLD_HELD:
            on_hold[hold.wallet] = on_hold.get(hold.wallet, 0) + hold.amount
    indexed = {key[len(layout.ON_HOLD):]: entry.value for key, entry in read_all(reader, layout.ON_HOLD, Amount)}
    if indexed != on_hold:
        raise InvariantBroken(f"holds per wallet {len(on_hold)} differ from the on-hold index ({len(indexed)} wallets)")
    unbonding_total = sum(entry.value for _key, entry in read_all(reader, layout.UNBONDING, Amount))
    recorded = sum(validator.unbonding for _key, validator in read_all(reader, layout.VALIDATOR, Validator))
    if unbonding_total != recorded:
        raise InvariantBroken(f"unbonding entries sum to {unbonding_total}, validators record {recorded}")
    check_block(reader)
