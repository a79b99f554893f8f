"""Node configuration (TOML + ``FEDOW_*`` environment), chain parameters and the genesis document.

Everything a node is told before it starts, validated with errors that name
the file or variable, the field and the reason. Depends on nothing of ours.
"""

from config.errors import ConfigError, Problem
from config.files import write_atomically
from config.genesis import (
    AssetSpec,
    BalanceSpec,
    CardSpec,
    FederationSpec,
    GenesisDoc,
    MembershipSpec,
    PlaceSpec,
    ValidatorSpec,
    load_genesis,
    parse_genesis,
    read_genesis_json,
)
from config.node import (
    ApiSection,
    KeysSection,
    LogSection,
    MempoolSection,
    MetricsSection,
    NodeConfig,
    NodeSection,
    OfflineSection,
    P2PSection,
    ReaderSection,
    Secret,
    StripeSection,
    dump_node_config,
    load_node_config,
    parse_node_config,
)
from config.params import ChainParams

__all__ = [
    "ApiSection", "AssetSpec", "BalanceSpec", "CardSpec", "ChainParams", "ConfigError", "FederationSpec",
    "GenesisDoc", "KeysSection", "LogSection", "MembershipSpec", "MempoolSection", "MetricsSection", "NodeConfig",
    "NodeSection", "OfflineSection", "P2PSection", "PlaceSpec", "Problem", "ReaderSection", "Secret", "StripeSection",
    "ValidatorSpec", "dump_node_config", "load_genesis", "load_node_config", "parse_genesis",
    "parse_node_config", "read_genesis_json", "write_atomically",
]
