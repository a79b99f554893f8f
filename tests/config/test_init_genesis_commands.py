"""``fedow-node init`` and ``fedow-node genesis ...`` driven through the CLI entry point."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from config import ChainParams, load_genesis, load_node_config
from fedow_node.cli import main
from genesis_samples import KEYS
from wallet.keys import encode_address, read_key_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_writes_private_keys_and_a_valid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "node"
    assert main(["init", "--home", str(home), "--validator", "--place-key",
                 "--listen", "/ip4/0.0.0.0/tcp/26656", "--api", "0.0.0.0:8442"]) == 0
    assert mode(home / "node.key") == 0o600 and mode(home / "place.key") == 0o600
    assert mode(home / "config.toml") == 0o600
    config = load_node_config(home / "config.toml", env={})
    assert config.keys.validator and config.keys.node_key == home / "node.key"
    assert config.keys.place_key == home / "place.key" and config.node.data_dir == home / "data"
    assert config.p2p.listen == "/ip4/0.0.0.0/tcp/26656" and config.api.bind == "0.0.0.0:8442"
    node_key = read_key_file(home / "node.key")
    printed = capsys.readouterr().out
    assert node_key.public_key.hex() in printed and node_key.address in printed
    assert read_key_file(home / "place.key").address in printed


def test_init_writes_a_treasury_key_on_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--home", str(tmp_path), "--treasury-key"]) == 0
    assert mode(tmp_path / "treasury.key") == 0o600
    config = load_node_config(tmp_path / "config.toml", env={})
    assert config.keys.treasury_key == tmp_path / "treasury.key"
    assert read_key_file(tmp_path / "treasury.key").address in capsys.readouterr().out


def test_init_refuses_to_overwrite_keys_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--home", str(tmp_path)]) == 0
    before = (tmp_path / "node.key").read_text()
    assert main(["init", "--home", str(tmp_path)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (tmp_path / "node.key").read_text() == before
    assert main(["init", "--home", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "node.key").read_text() != before and mode(tmp_path / "node.key") == 0o600


def test_init_rejects_a_bad_address_before_writing_anything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--home", str(tmp_path), "--api", "nowhere"]) == 2
    assert "api.bind" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def genesis(*args: str) -> int:
    return main(["genesis", *args])


def test_genesis_commands_build_a_complete_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "genesis.json"
    assert genesis("new", "--out", str(out), "--chain-id", "fedow-test", "--devnet", "--time-ms", "1000") == 0
    assert genesis("validate", str(out)) == 2  # a draft: no authority, no validator yet
    assert "authorities: must hold at least one key" in capsys.readouterr().err
    assert genesis("add-authority", str(out), "--key", encode_address(bytes.fromhex(KEYS[0]))) == 0
    assert genesis("add-place", str(out), "--id", "bar", "--name", "Bar", "--public-key", KEYS[1]) == 0
    assert genesis("add-asset", str(out), "--id", "TLF", "--name", "Local", "--category", "TLF",
                   "--origin-place", "bar", "--melting") == 0
    assert genesis("add-federation", str(out), "--id", "fest", "--name", "Fest", "--places", "bar",
                   "--assets", "FED,TLF") == 0
    assert genesis("add-validator", str(out), "--public-key", KEYS[3], "--place", "bar", "--stake", "1000") == 0
    assert genesis("add-balance", str(out), "--owner", "cd" * 32, "--asset", "TLF", "--amount", "50") == 0
    assert genesis("validate", str(out)) == 2
    assert "treasury: must hold at least one key" in capsys.readouterr().err
    for treasury_key in KEYS[5:7]:
        assert genesis("add-treasury-key", str(out), "--key", treasury_key) == 0
    assert genesis("set-treasury-threshold", str(out), "--threshold", "2") == 0
    assert genesis("validate", str(out)) == 0
    assert genesis("set-authority-threshold", str(out), "--threshold", "2") == 0  # a draft again: 1 key only
    assert genesis("validate", str(out)) == 2
    assert "authority_threshold: 2 signatures needed but authorities holds only 1" in capsys.readouterr().err
    assert genesis("add-authority", str(out), "--key", KEYS[2]) == 0
    assert genesis("validate", str(out)) == 0
    doc = load_genesis(out)
    assert doc.chain_id == "fedow-test" and doc.genesis_time_ms == 1000 and doc.params == ChainParams.devnet()
    assert doc.authority_threshold == 2 and doc.treasury_threshold == 2 and len(doc.treasury) == 2
    assert doc.authorities == (bytes.fromhex(KEYS[0]), bytes.fromhex(KEYS[2])) and doc.federations[0].assets == ("FED", "TLF")
    assert [asset.id for asset in doc.assets] == ["FED", "TLF"] and doc.balances[0].amount == 50
    capsys.readouterr()
    assert genesis("show", str(out)) == 0
    shown = capsys.readouterr().out
    assert "chain fedow-test" in shown and "(complete)" in shown and encode_address(bytes.fromhex(KEYS[3])) in shown
    assert "treasury (2 of 2 keys co-sign each FED mint and burn)" in shown


@pytest.mark.parametrize(("args", "message"), [
    (["add-place", "--id", "bar2", "--name", "B", "--public-key", "abc"], "places[0].public_key: not 64"),
    (["add-validator", "--public-key", KEYS[3], "--place", "nowhere", "--stake", "5"],
     "validators[0].place: no place has id 'nowhere'"),
    (["add-asset", "--id", "EURO", "--name", "E", "--category", "FED"], "exactly one asset of category FED"),
    (["add-balance", "--owner", "ab" * 32, "--asset", "FED", "--amount", "0"], "balances[0].amount"),
])
def test_an_invalid_edit_is_refused_and_leaves_the_file_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    out = tmp_path / "genesis.json"
    assert genesis("new", "--out", str(out), "--chain-id", "fedow-test") == 0
    before = out.read_bytes()
    assert genesis(args[0], str(out), *args[1:]) == 2
    assert message in capsys.readouterr().err
    assert out.read_bytes() == before


def test_genesis_new_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "genesis.json"
    out.write_text("{}")
    assert genesis("new", "--out", str(out), "--chain-id", "fedow-test") == 1
    assert out.read_text() == "{}"


def test_a_bad_address_is_refused_by_the_parser(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "genesis.json"
    assert genesis("new", "--out", str(out), "--chain-id", "fedow-test") == 0
    with pytest.raises(SystemExit) as caught:
        genesis("add-authority", str(out), "--key", "fedow1aaaa")
    assert caught.value.code == 2 and "address" in capsys.readouterr().err


def test_editing_a_broken_file_names_its_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "genesis.json"
    out.write_text(json.dumps({"chain_id": "x"}))
    assert genesis("add-authority", str(out), "--key", KEYS[0]) == 2
    assert "genesis_time_ms: missing" in capsys.readouterr().err


def test_genesis_new_refuses_a_bad_chain_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "genesis.json"
    assert genesis("new", "--out", str(out), "--chain-id", "Fedow Festival") == 2
    assert "chain_id: 'Fedow Festival' does not have the form" in capsys.readouterr().err
    assert not out.exists()
