"""``fedow-node tx``: a 2-of-3 governance action built, passed from signer to signer as a file, shown in
plain words, refused below the threshold, and committed at it; one-signer kinds with ``tx send``."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from api_solo_node import BAR, SoloNode, genesis, key
from api_world import served_node
from fedow_node.cli import main
from wallet import queries
from wallet.keys import SigningKey, write_key_file

AUTHORITIES = [key("authority-1"), key("authority-2"), key("authority-3")]
SHOP = key("shop")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[str, SoloNode, Path]]:
    doc = replace(genesis(), authorities=tuple(sorted(k.public_key for k in AUTHORITIES)), authority_threshold=2)
    with served_node(tmp_path / "node", doc=doc) as (url, node):
        yield url, node, tmp_path


def key_file(folder: Path, signer: SigningKey, name: str) -> str:
    path = folder / f"{name}.key"
    write_key_file(path, signer)
    return str(path)


def tx(*args: str) -> int:
    return main(["tx", *args])


def test_two_of_three_authorities_create_a_place_by_passing_a_file(api, capsys) -> None:
    url, node, folder = api
    keys = [key_file(folder, signer, f"authority-{i}") for i, signer in enumerate(AUTHORITIES, 1)]
    signing = folder / "shop.json"
    body = json.dumps({"place_id": "shop", "name": "Shop", "public_key": SHOP.address})
    assert tx("new", "create_place", "--body", body, "--api", url, "--out", str(signing)) == 0
    shown = capsys.readouterr().out
    assert f"create place shop ('Shop'), signing with key {SHOP.address}" in shown
    assert "nobody has signed yet" in shown and "0 of the 2 needed (2 of 3 authority keys): 2 more needed" in shown

    assert tx("submit", str(signing), "--api", url) == 2
    assert "nobody has signed" in capsys.readouterr().err

    assert tx("sign", str(signing), "--key", keys[0], "--yes", "--api", url) == 0
    assert tx("show", str(signing), "--api", url) == 0
    shown = capsys.readouterr().out
    assert f"signed: {AUTHORITIES[0].address}" in shown and "1 more needed" in shown

    assert tx("submit", str(signing), "--api", url) == 1  # one authority alone
    assert "below_threshold" in capsys.readouterr().err
    assert queries.place(node.reader, "shop") is None

    assert tx("sign", str(signing), "--key", keys[2], "--yes") == 0  # no --api: the threshold is not shown
    assert "threshold:    unknown here" in capsys.readouterr().out
    assert tx("show", str(signing), "--api", url) == 0
    assert "2 of the 2 needed (2 of 3 authority keys): enough, ready to submit" in capsys.readouterr().out
    assert tx("submit", str(signing), "--api", url) == 0
    assert "committed at height" in capsys.readouterr().out
    place = queries.place(node.reader, "shop")
    assert place is not None and place.public_key == SHOP.public_key


def test_a_stranger_a_tampered_file_and_a_signature_over_another_body_are_caught(api, capsys) -> None:
    url, node, folder = api
    first, second = folder / "north.json", folder / "south.json"
    for path, name in ((first, "north"), (second, "south")):
        assert tx("new", "create_federation", "--body", json.dumps({"federation_id": name, "name": name}),
                  "--api", url, "--out", str(path)) == 0
    stranger = key_file(folder, key("stranger"), "stranger")
    assert tx("sign", str(first), "--key", stranger, "--yes") == 0
    assert tx("show", str(first), "--api", url) == 0
    assert "(not in the authority key set: the node will refuse it)" in capsys.readouterr().out
    assert tx("sign", str(first), "--key", key_file(folder, AUTHORITIES[0], "a1"), "--yes") == 0
    assert tx("sign", str(first), "--key", key_file(folder, AUTHORITIES[1], "a2"), "--yes") == 0
    assert tx("submit", str(first), "--api", url) == 1
    assert "not_authority" in capsys.readouterr().err

    pasted = json.loads(second.read_text())
    pasted["signatures"] = json.loads(first.read_text())["signatures"]  # signatures over "north"
    second.write_text(json.dumps(pasted))
    assert tx("show", str(second)) == 2
    assert "does not verify for this transaction" in capsys.readouterr().err

    edited = json.loads(first.read_text()) | {"kind": "create_place"}
    first.write_text(json.dumps(edited))
    assert tx("submit", str(first), "--api", url) == 2
    assert "do not match the unsigned transaction" in capsys.readouterr().err
    assert queries.federations(node.reader)[0].id == "festival" and len(queries.federations(node.reader)) == 1


def test_the_signer_reads_before_signing_and_may_decline(api, capsys, monkeypatch) -> None:
    url, _node, folder = api
    signing = folder / "params.json"
    assert tx("new", "set_params", "--body", json.dumps({"changes": [["tx_ttl_blocks", 50]]}),
              "--api", url, "--out", str(signing)) == 0
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert tx("sign", str(signing), "--key", key_file(folder, AUTHORITIES[0], "a1")) == 1
    out = capsys.readouterr()
    assert "change chain parameters: tx_ttl_blocks = 50" in out.out and "not signed" in out.err
    assert json.loads(signing.read_text())["signatures"] == []


def test_one_signer_kinds_are_sent_and_co_signed_kinds_are_not(api, capsys) -> None:
    url, node, folder = api
    bar_key = key_file(folder, BAR, "bar")
    assert tx("send", "place_policy", "--body", '{"require_operator": true}', "--key", bar_key, "--api", url) == 0
    assert "require an operator card" in capsys.readouterr().out
    assert tx("send", "create_federation", "--body", '{"federation_id": "x", "name": "x"}', "--key", bar_key,
              "--api", url) == 2
    assert "use `fedow-node tx new`" in capsys.readouterr().err
    assert tx("new", "place_policy", "--body", '{"require_operator": false}', "--api", url,
              "--out", str(folder / "x.json")) == 2
    assert tx("new", "create_place", "--body", '{"place_id": "x"}', "--api", url, "--out", str(folder / "x.json")) == 2
    assert "create_place needs the field 'name'" in capsys.readouterr().err
