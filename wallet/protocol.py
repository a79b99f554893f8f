"""The protocol version of each height, and the upgrades governance schedules.

A chain starts at version 1 (nothing in the state says so: the genesis state is the one it
always was). ``schedule_upgrade`` (k of n authorities, wallet/rules/governance.py) records
an upgrade: from ``height`` on, blocks are made and checked under ``version``. At the
begin-block of that height the state switches: the version becomes the new one and the
plan is removed. Which versions a node's software can run is the node's business
(fedow_node/protocol.py); the ledger only says which version each height has.
"""

from __future__ import annotations

from wallet import layout
from wallet.errors import Rejected
from wallet.records import ProtocolState
from wallet.state import Overlay, StateReader

GENESIS_VERSION = 1
MAX_VERSION = 2**16


def protocol_state(reader: StateReader) -> ProtocolState:
    """The version in force and the scheduled upgrade (``next_height`` 0: none)."""
    recorded = (reader if isinstance(reader, Overlay) else Overlay(reader)).record(layout.PROTOCOL, ProtocolState)
    return ProtocolState(GENESIS_VERSION, 0, 0) if recorded is None else recorded


def version_at(reader: StateReader, height: int) -> int:
    """The protocol version of block ``height`` (the next block or later), as the committed state says."""
    state = protocol_state(reader)
    return state.next_version if state.next_height and height >= state.next_height else state.version


def schedule(overlay: Overlay, current_height: int, version: int, height: int) -> None:
    """Record an upgrade to ``version`` at ``height``; replaces a plan not yet reached."""
    state = protocol_state(overlay)
    if version <= state.version:
        raise Rejected("bad_upgrade", f"version {version} is not above the chain's version {state.version}")
    if height <= current_height:
        raise Rejected("bad_upgrade", f"upgrade height {height} is not after this block's height {current_height}")
    overlay.put(layout.PROTOCOL, ProtocolState(state.version, version, height))


def switch_if_due(overlay: Overlay, height: int) -> None:
    """At the begin-block of the scheduled height, the new version is in force and the plan is done."""
    state = protocol_state(overlay)
    if state.next_height and height >= state.next_height:
        overlay.put(layout.PROTOCOL, ProtocolState(state.next_version, 0, 0))
