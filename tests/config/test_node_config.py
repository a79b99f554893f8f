"""Node configuration: defaults, TOML file, FEDOW_* overrides, validation messages, secrets, dump."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import structlog

from config import ConfigError, NodeConfig, Secret, dump_node_config, load_node_config, parse_node_config

PEER = "/ip4/10.0.0.2/tcp/26656/p2p/12D3KooWJ6ND4yYhSF2AxmT2x2M5TgMyBEm6gHi1ADmEhp9XEyQ9"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_valid_and_paths_resolve_against_the_working_folder() -> None:
    config = load_node_config(None, env={})
    assert config.api.bind == "127.0.0.1:8442" and config.metrics.bind == "127.0.0.1:9442"
    assert config.p2p.listen == "/ip4/127.0.0.1/tcp/26656" and config.p2p.peers == ()
    assert config.reader.enabled is False and config.keys.place_key is None
    assert config.node.data_dir == Path.cwd() / "data"


def test_file_values_are_typed_and_relative_paths_follow_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
[node]
data_dir = "chain"
[keys]
node_key = "keys/node.key"
place_key = "/etc/fedow/place.key"
validator = true
[p2p]
peers = ["{PEER}"]
[metrics]
bind = ""
[mempool]
max_txs = 50
""")
    config = load_node_config(path, env={})
    assert config.node.data_dir == tmp_path / "chain" and config.node.genesis == tmp_path / "genesis.json"
    assert config.keys.node_key == tmp_path / "keys" / "node.key"
    assert config.keys.place_key == Path("/etc/fedow/place.key")
    assert config.keys.validator is True and config.p2p.peers == (PEER,)
    assert config.metrics.bind == "" and config.mempool.max_txs == 50


def test_environment_overrides_the_file_with_typed_values(tmp_path: Path) -> None:
    path = write(tmp_path, '[api]\nbind = "127.0.0.1:1000"\n')
    config = load_node_config(path, env={
        "FEDOW_API_BIND": "0.0.0.0:8442", "FEDOW_API_MAX_BODY_BYTES": "1024", "FEDOW_READER_ENABLED": "true",
        "FEDOW_KEYS_VALIDATOR": "0", "FEDOW_P2P_PEERS": f"{PEER}, {PEER.replace('10.0.0.2', '10.0.0.3')}",
        "FEDOW_NODE_DATA_DIR": "elsewhere", "FEDOW_STRIPE_SECRET_KEY": "sk_test_123", "HOME": "/root",
    })
    assert config.api.bind == "0.0.0.0:8442" and config.api.max_body_bytes == 1024
    assert config.reader.enabled is True and config.keys.validator is False
    assert len(config.p2p.peers) == 2 and config.node.data_dir == tmp_path / "elsewhere"
    assert config.stripe.secret_key.reveal() == "sk_test_123"


@pytest.mark.parametrize(("env", "where", "reason"), [
    ({"FEDOW_API_MAX_BODY_BYTES": "lots"}, "FEDOW_API_MAX_BODY_BYTES: api.max_body_bytes", "'lots' is not an integer"),
    ({"FEDOW_READER_ENABLED": "yes"}, "FEDOW_READER_ENABLED: reader.enabled", "not a boolean"),
    ({"FEDOW_API_BINDING": "x"}, "FEDOW_API_BINDING", "unknown setting"),
    ({"FEDOW_DATABASE_URL": "x"}, "FEDOW_DATABASE_URL", "unknown setting"),
    ({"FEDOW_MEMPOOL_MAX_TXS": "0"}, "FEDOW_MEMPOOL_MAX_TXS: mempool.max_txs", "must be positive"),
])
def test_bad_environment_variables_are_named(env: dict, where: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_node_config(None, env=env)
    assert caught.value.code == "bad_config"
    assert [(p.where, reason in p.reason) for p in caught.value.problems] == [(where, True)], caught.value


@pytest.mark.parametrize(("toml", "where", "reason"), [
    ("[apii]\nbind = 'x'", "[apii]", "unknown section"),
    ("[api]\nbnid = 'x'", "api.bnid", "unknown key"),
    ("api = 3", "api", "must be a [section] table"),
    ("[api]\nbind = 'localhost'", "api.bind", "not of the form host:port"),
    ("[api]\nbind = '127.0.0.1:0'", "api.bind", "port 0 is outside 1-65535"),
    ("[api]\nbind = '[::1]:8442x'", "api.bind", "not of the form host:port"),
    ("[api]\nbind = 'bad_host:80'", "api.bind", "not a host name"),
    ("[api]\nmax_body_bytes = '10'", "api.max_body_bytes", "must be an integer"),
    ("[api]\nmax_body_bytes = 0", "api.max_body_bytes", "must be positive"),
    ("[metrics]\nbind = '999.1.1.1:80'", "metrics.bind", "not an ip4 address"),
    ("[p2p]\nlisten = '/ip4/127.0.0.1/udp/1'", "p2p.listen", "not a multiaddr"),
    ("[p2p]\nlisten = '/ip6/::zz/tcp/1'", "p2p.listen", "not an ip6 address"),
    ("[p2p]\nlisten = '/ip4/0.0.0.0/tcp/70000'", "p2p.listen", "port 70000 is outside 0-65535"),
    ("[p2p]\npeers = ['/ip4/10.0.0.2/tcp/1']", "p2p.peers", "/p2p/<peer id>"),
    ("[p2p]\npeers = ['/ip4/10.0.0.2/tcp/1/p2p/0OIl']", "p2p.peers", "not a base58 libp2p peer id"),
    ("[p2p]\npeers = '/ip4/10.0.0.2/tcp/1'", "p2p.peers", "must be a list of strings"),
    ("[log]\nformat = 'xml'", "log.format", "'xml' is not one of auto, json, console"),
    ("[log]\nlevel = 'loud'", "log.level", "is not one of debug"),
    ("[keys]\nvalidator = 'yes'", "keys.validator", "must be true or false"),
    ("[keys]\nnode_key = ''", "keys.node_key", "must be a path"),
    ("[node]\nmoniker = ''", "node.moniker", "1 to 64 printable characters"),
    ("[stripe]\napi_base = 'localhost:12111'", "stripe.api_base", "not an http(s) URL"),
    ("[stripe]\nsecret_key = 123456789", "stripe.secret_key", "must be a string, got int"),
    ("[node\n", "", "not valid TOML"),
])
def test_bad_file_values_name_file_field_and_reason(tmp_path: Path, toml: str, where: str, reason: str) -> None:
    path = write(tmp_path, toml)
    with pytest.raises(ConfigError) as caught:
        load_node_config(path, env={})
    expected_where = f"{path}: {where}" if where else str(path)
    assert [(p.where, reason in p.reason) for p in caught.value.problems] == [(expected_where, True)], caught.value


def test_all_problems_are_listed_together(tmp_path: Path) -> None:
    path = write(tmp_path, "[api]\nbind = 'x'\n[log]\nlevel = 'loud'\n")
    with pytest.raises(ConfigError) as caught:
        load_node_config(path, env={"FEDOW_MEMPOOL_MAX_TXS": "-1"})
    assert len(caught.value.problems) == 3


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="absent.toml: cannot read"):
        load_node_config(tmp_path / "absent.toml", env={})


def test_secrets_never_show_in_repr_or_logs(tmp_path: Path) -> None:
    config = load_node_config(None, env={"FEDOW_STRIPE_SECRET_KEY": "sk_live_SECRET",
                                         "FEDOW_STRIPE_WEBHOOK_SECRET": "whsec_SECRET"})
    assert "SECRET" not in repr(config) and "SECRET" not in str(config.stripe)
    assert "SECRET" not in repr(dataclasses.asdict(config))
    with structlog.testing.capture_logs() as logs:
        structlog.get_logger("test").info("config_loaded", config=config, stripe=config.stripe.secret_key)
    rendered = structlog.processors.JSONRenderer(default=repr)(None, "info", dict(logs[0]))
    assert "SECRET" not in rendered and "Secret(set)" in rendered
    assert not Secret() and Secret("x")


def test_dump_then_parse_gives_back_the_same_config(tmp_path: Path) -> None:
    config = load_node_config(None, env={"FEDOW_P2P_PEERS": PEER, "FEDOW_STRIPE_SECRET_KEY": "sk_test_1",
                                         "FEDOW_KEYS_PLACE_KEY": "place.key"})
    assert parse_node_config(dump_node_config(config), base=tmp_path, env={}) == config
    assert parse_node_config(dump_node_config(NodeConfig()), base=tmp_path, env={}).node.data_dir == tmp_path / "data"
