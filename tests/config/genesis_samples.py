"""A valid genesis document (as decoded JSON) that the genesis tests mutate."""

from __future__ import annotations

import copy
from typing import Any

from config import ChainParams
from wallet.keys import SigningKey

KEYS = [SigningKey(bytes([index]) * 32).public_key.hex() for index in range(1, 8)]
"""Deterministic keys: authority, two places, two validators, two treasury keys."""


def sample_genesis() -> dict[str, Any]:
    return copy.deepcopy({
        "chain_id": "fedow-devnet",
        "genesis_time_ms": 1767225600000,
        "authorities": [KEYS[0]],
        "authority_threshold": 1,
        "treasury": [KEYS[5], KEYS[6]],
        "treasury_threshold": 2,
        "params": ChainParams.devnet().to_dict(),
        "assets": [
            {"id": "FED", "name": "Euro fédéré", "category": "FED", "origin_place": None, "melting": False},
            {"id": "TLF-BAR", "name": "Monnaie du bar", "category": "TLF", "origin_place": "bar-du-coin",
             "melting": True},
        ],
        "places": [
            {"id": "bar-du-coin", "name": "Bar du coin", "public_key": KEYS[1]},
            {"id": "la-scene", "name": "La scène", "public_key": KEYS[2]},
        ],
        "federations": [{"id": "festival", "name": "Festival", "places": ["bar-du-coin", "la-scene"],
                         "assets": ["FED", "TLF-BAR"]}],
        "validators": [
            {"public_key": KEYS[3], "place": "bar-du-coin", "stake": 100000},
            {"public_key": KEYS[4], "place": "la-scene", "stake": 50000},
        ],
        "balances": [{"owner": "ab" * 32, "asset": "FED", "amount": 5000}],
    })
