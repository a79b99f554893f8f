"""API tokens: stored hashed in a 0600 file, bound to a place, revocable; the api-token command."""

from __future__ import annotations

import argparse
import hashlib
import os
import stat

import pytest

from fedow_node.api import TokenFile, TokenFileError, create_token, list_tokens, revoke_token, tokens_path
from fedow_node.commands import api_token


def test_tokens_are_stored_hashed_in_a_private_file(tmp_path):
    path = tokens_path(tmp_path)
    entry, token = create_token(path, "bar", 123)
    text = path.read_text()
    assert token not in text and entry.sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other, other_token = create_token(path, "cafe", 456)
    assert list_tokens(path) == (entry, other) and token != other_token
    tokens = TokenFile(path)
    assert tokens.lookup(token) == entry and tokens.lookup(other_token) == other
    assert tokens.lookup(token[:-1]) is None and tokens.lookup("") is None
    assert revoke_token(path, entry.id) and not revoke_token(path, entry.id)
    assert tokens.lookup(token) is None and tokens.lookup(other_token) == other


def test_missing_file_means_no_token_and_bad_files_are_refused(tmp_path):
    path = tokens_path(tmp_path)
    assert TokenFile(path).lookup("fdw_x") is None and list_tokens(path) == ()
    path.write_text("{not json")
    os.chmod(path, 0o600)
    with pytest.raises(TokenFileError, match="not a valid token file"):
        TokenFile(path).lookup("fdw_x")
    os.chmod(path, 0o640)
    with pytest.raises(TokenFileError, match="chmod 600"):
        list_tokens(path)


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    api_token.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["api-token", *argv])
    return int(args.func(args))


def test_api_token_command_creates_lists_and_revokes(tmp_path, capsys):
    assert _cli("create", "--home", str(tmp_path), "--place", "bar") == 0
    printed = capsys.readouterr().out
    token = printed.strip().splitlines()[-1]
    assert token.startswith("fdw_") and TokenFile(tokens_path(tmp_path)).lookup(token).place == "bar"
    token_id = token.split("_")[1]
    assert _cli("list", "--home", str(tmp_path)) == 0
    listed = capsys.readouterr().out
    assert token_id in listed and "place=bar" in listed and token not in listed
    assert _cli("revoke", "--home", str(tmp_path), "--id", token_id) == 0
    assert _cli("revoke", "--home", str(tmp_path), "--id", token_id) == 2
    assert "no token has id" in capsys.readouterr().err
    assert _cli("create", "--home", str(tmp_path), "--place", "Not A Place") == 2
    assert _cli("create", "--home", str(tmp_path / "missing"), "--place", "bar") == 2


def test_the_mode_is_checked_on_every_load_not_only_when_the_file_changes(tmp_path):
    """A chmod changes neither size nor mtime: the node must still refuse at once (503 at the API)."""
    path = tokens_path(tmp_path)
    entry, token = create_token(path, "bar", 0)
    tokens = TokenFile(path)
    assert tokens.lookup(token) == entry
    before = path.stat()
    os.chmod(path, 0o644)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(TokenFileError, match="chmod 600"):
        tokens.lookup(token)
    os.chmod(path, 0o600)
    assert tokens.lookup(token) == entry
