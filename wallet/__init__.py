"""The ledger domain, pure and deterministic: keys, canonical encoding, objects,
transactions and the rules that apply them to state. No I/O, no clock.

Public surface: decode, sign and co-sign transactions (:mod:`wallet.tx`, bodies in
:mod:`wallet.bodies`), read and overlay state (:mod:`wallet.state`), build the
genesis state, apply transactions and blocks (:mod:`wallet.execute`), read the
validator set, check the money invariants. ``wallet.codec`` and ``wallet.keys``
are the primitives other packages may import directly.
"""

from wallet.bodies import BODY_TYPES, Body
from wallet.errors import BlockTxRejected, InvariantBroken, LedgerError, Rejected
from wallet.execute import (BlockContext, BlockOutcome, BuiltBlock, TxResult, apply_tx, build_block,
                            current_params, execute_block)
from wallet.genesis import GenesisDoc, genesis_state
from wallet.invariants import check_block, check_full, recount
from wallet.params import LedgerParams
from wallet.state import DictReader, Overlay, RecordCache, StateReader
from wallet.tx import (TX_DOMAIN, Draft, Tx, build_unsigned, combine, cosign, decode_tx, read_unsigned, sign_cosigned,
                       sign_tx)
from wallet.validators import validator_set

__all__ = [
    "BODY_TYPES", "Body", "BlockContext", "BlockOutcome", "BlockTxRejected", "BuiltBlock", "DictReader", "Draft",
    "GenesisDoc", "InvariantBroken", "LedgerError", "LedgerParams", "Overlay", "RecordCache", "Rejected", "StateReader",
    "TX_DOMAIN", "Tx", "TxResult", "apply_tx", "build_block", "build_unsigned", "check_block", "check_full", "combine",
    "cosign", "current_params", "decode_tx", "execute_block", "genesis_state", "read_unsigned", "recount",
    "sign_cosigned", "sign_tx", "validator_set",
]
