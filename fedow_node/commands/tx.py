"""``fedow-node tx``: build, read, co-sign and submit transactions by hand.

A co-signed transaction (governance by the authorities, attestations by the
treasury) travels as a file from signer to signer (docs/governance.md)::

    fedow-node tx new create_place --body '{"place_id": "shop", ...}' --api URL --out shop.json
    fedow-node tx show shop.json [--api URL]          # what it does, who signed, how many more
    fedow-node tx sign shop.json --key authority.key  # on each signer's own machine
    fedow-node tx submit shop.json --api URL

``tx send`` signs and submits a one-signer transaction (a place rotating its key,
its till policy) with a key file. Bodies are JSON objects by field name (hex or
``fedow1`` addresses for keys and wallets). Exit 0: done; 1: refused (by the
node, or the signer said no); 2: bad input.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any, Callable

from fedow_node.client import Submission
from fedow_node.commands._hand import Refused, ask_node, guarded
from fedow_node.plain_words import body_from_json, describe
from fedow_node.signing_file import SigningFile, SigningFileError
from wallet.bodies import BODY_TYPES, Body
from wallet.keys import encode_address, read_key_file
from wallet.tx import NONCE_BYTES, build_unsigned

Json = dict[str, Any]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tx", help="build, show, co-sign and submit transactions by hand",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    new = actions.add_parser("new", help="write the unsigned file of a co-signed transaction")
    _kind_and_body(new)
    new.add_argument("--out", required=True, type=Path, help="the signing file to write")
    new.add_argument("--api", help="a node's API: chain id and expiry from its status")
    new.add_argument("--expires-in", type=int, help="blocks from now (default: the chain's cosigned_tx_ttl_blocks)")
    new.add_argument("--chain-id", help="without --api: the chain id")
    new.add_argument("--expires-at", type=int, help="without --api: the last height it may be committed at")
    new.add_argument("--force", action="store_true", help="replace an existing file")
    new.set_defaults(func=_guarded(_new))

    show = actions.add_parser("show", help="say what a signing file does, who signed, how many more are needed")
    show.add_argument("file", type=Path)
    show.add_argument("--api", help="a node's API, to read the key set and its threshold")
    show.set_defaults(func=_guarded(_show))

    sign = actions.add_parser("sign", help="show a signing file, then add your signature to it")
    sign.add_argument("file", type=Path)
    sign.add_argument("--key", required=True, type=Path, help="your key file (hex seed, mode 0600)")
    sign.add_argument("--api", help="a node's API, to read the key set and its threshold")
    sign.add_argument("--yes", action="store_true", help="sign without asking")
    sign.set_defaults(func=_guarded(_sign))

    submit = actions.add_parser("submit", help="submit a signed file to a node")
    submit.add_argument("file", type=Path)
    submit.add_argument("--api", required=True)
    submit.add_argument("--no-wait", action="store_true", help="do not wait for the commit")
    submit.set_defaults(func=_guarded(_submit))

    send = actions.add_parser("send", help="sign a one-signer transaction with a key file and submit it")
    _kind_and_body(send)
    send.add_argument("--key", required=True, type=Path, help="the signer's key file (hex seed, mode 0600)")
    send.add_argument("--api", required=True)
    send.set_defaults(func=_guarded(_send))


def _kind_and_body(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", help="transaction kind, e.g. create_place (docs/ledger.md)")
    body = parser.add_mutually_exclusive_group(required=True)
    body.add_argument("--body", help="the body as a JSON object by field name")
    body.add_argument("--body-file", type=Path, help="a file holding the body as JSON")


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    return guarded(run, SigningFileError)


def _body(args: argparse.Namespace) -> Body:
    text = args.body if args.body is not None else args.body_file.read_text(encoding="utf-8")
    try:
        fields = json.loads(text)
    except ValueError as exc:
        raise Refused(f"the body is not JSON: {exc}") from None
    return body_from_json(args.kind, fields)


def _new(args: argparse.Namespace) -> int:
    body = _body(args)
    if body.KEY_SET is None:
        raise Refused(f"{args.kind} has one signer: use `fedow-node tx send`")
    if args.out.exists() and not args.force:
        raise Refused(f"refusing to overwrite {args.out}: pass --force to replace it", 1)
    if args.api:
        status = ask_node(args.api, lambda client: client.status())
        chain_id = status["chain_id"]
        expires_at = status["height"] + (status["cosigned_tx_ttl_blocks"] if args.expires_in is None
                                         else args.expires_in)
    elif args.chain_id and args.expires_at is not None:
        chain_id, expires_at = args.chain_id, args.expires_at
    else:
        raise Refused("name the chain: --api URL, or --chain-id and --expires-at")
    signing = SigningFile.new(chain_id, build_unsigned(body.KIND, body, os.urandom(NONCE_BYTES), expires_at))
    signing.save(args.out)
    print(_report(signing, _key_sets(args.api)))
    print(f"wrote {args.out}: pass it to each signer (`fedow-node tx sign {args.out.name} --key ...`)")
    return 0


def _key_sets(api: str | None) -> dict[str, Json] | None:
    return None if api is None else ask_node(api, lambda client: client.status())["key_sets"]


def _report(signing: SigningFile, key_sets: dict[str, Json] | None) -> str:
    """What the file holds, in plain words: the action, the signers, how many more are needed."""
    draft = signing.draft
    key_set_name = BODY_TYPES[draft.kind].KEY_SET
    lines = [f"co-signed transaction {draft.txid.hex()}",
             f"  chain:        {signing.chain_id}, valid until height {draft.expires_at}",
             f"  what it does: {describe(draft.body)}",
             f"  signed by the {key_set_name} key set"]
    key_set = None if key_sets is None else key_sets.get(key_set_name)
    members = None if key_set is None else {bytes.fromhex(key) for key in key_set["keys"]}
    for key in sorted(signing.signatures):
        note = "" if members is None or key in members \
            else f"  (not in the {key_set_name} key set: the node will refuse it)"
        lines.append(f"    signed: {encode_address(key)}{note}")
    if not signing.signatures:
        lines.append("    nobody has signed yet")
    if key_set is None:
        lines.append("  threshold:    unknown here (pass --api to ask a node)" if key_sets is None
                     else f"  threshold:    this chain has no {key_set_name} key set")
    else:
        valid = len(signing.signatures.keys() & members)  # type: ignore[operator]
        needed = max(0, key_set["threshold"] - valid)
        lines.append(f"  threshold:    {valid} of the {key_set['threshold']} needed "
                     f"({key_set['threshold']} of {len(members)} {key_set_name} keys): "  # type: ignore[arg-type]
                     + ("enough, ready to submit" if needed == 0 else f"{needed} more needed"))
    return "\n".join(lines)


def _show(args: argparse.Namespace) -> int:
    print(_report(SigningFile.load(args.file), _key_sets(args.api)))
    return 0


def _sign(args: argparse.Namespace) -> int:
    signing = SigningFile.load(args.file)
    key = read_key_file(args.key)
    key_sets = _key_sets(args.api)
    print(_report(signing, key_sets))
    if key.public_key in signing.signatures:
        print(f"{key.address} has already signed it")
        return 0
    if not args.yes and input(f"sign it with {key.address}? [y/N] ").strip().lower() not in ("y", "yes"):
        raise Refused("not signed", 1)
    signing.sign(key)
    signing.save(args.file)
    print(f"signed by {key.address}; {args.file} now holds {len(signing.signatures)} signature(s)")
    return 0


def _submit(args: argparse.Namespace) -> int:
    signing = SigningFile.load(args.file)
    return _outcome(ask_node(args.api, lambda client: client.submit(signing.transaction(),
                                                                      wait=not args.no_wait)))


def _outcome(result: Submission) -> int:
    print(f"transaction {result.txid}: {result.status}"
          + (f" at height {result.height}" if result.height is not None else "")
          + (f" ({result.error}: {result.detail})" if result.error else ""))
    return 0 if result.status in ("committed", "pending") else 1


def _send(args: argparse.Namespace) -> int:
    body = _body(args)
    if body.KEY_SET is not None:
        raise Refused(f"{args.kind} needs signatures of the {body.KEY_SET} key set: use `fedow-node tx new`")
    key = read_key_file(args.key)
    print(f"{describe(body)}, signed by {key.address}")
    return _outcome(ask_node(args.api, lambda client: client.sign_and_submit(key, body)))
