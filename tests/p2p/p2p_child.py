"""A p2p node in its own OS process, driven over stdin/stdout JSON lines (tests and bench).

Started as ``python p2p_child.py '<json config>'``. It prints one JSON object per
line: ``{"event": "started", ...}`` once listening, ``{"event": "message", ...}``
for every gossip message delivered, and ``{"event": "reply", "id": n, ...}`` for
every command read from stdin (``{"id": n, "op": "...", ...}``). Ops: publish,
publish_many (optionally paced and padded, each payload stamped with its send
time), publish_batch, request, request_loop, peers, metrics, score, ping (answers the CPU time used). The validator of the ``t`` topic rejects
payloads that start with the configured ``reject_prefix``, ignores those that start
with ``ignore_prefix`` and accepts the rest.
The request handler of ``/test/blob/1`` answers ``blob:<n>`` with ``n`` bytes and
raises on ``boom``.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from typing import Any

import trio

from fedow_node.logs import configure_logging
from p2p import ACCEPT, IGNORE, REJECT, P2PConfig, P2PError, P2PNode, Verdict

TOPIC = "t"
BLOB_PROTOCOL = "/test/blob/1"


def blob(size: int) -> bytes:
    """Deterministic bytes of ``size``, so the requester can check them by digest."""
    block = hashlib.sha256(b"blob").digest() * 2048
    return (block * (size // len(block) + 1))[:size]


def batch_payload(tag: str, items: int, item_size: int) -> bytes:
    """A gossip batch of ``items`` distinct length-prefixed items of ``item_size`` bytes."""
    parts = [f"batch-{tag}:".encode()]
    for index in range(items):
        item = (hashlib.sha256(f"{tag}/{index}".encode()).digest() * (item_size // 32 + 1))[:item_size]
        parts.append(len(item).to_bytes(2, "big") + item)
    return b"".join(parts)


def emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, sort_keys=True) + "\n")
    sys.stdout.flush()


def make_validator(reject_prefix: bytes, ignore_prefix: bytes) -> Any:
    def validate(data: bytes, peer_id: str) -> Verdict:
        if reject_prefix and data.startswith(reject_prefix):
            return REJECT(f"payload starts with {reject_prefix!r}")
        if ignore_prefix and data.startswith(ignore_prefix):
            return IGNORE
        return ACCEPT

    return validate


async def handle_blob(peer_id: str, request: bytes) -> bytes:
    if request == b"boom":
        raise RuntimeError("boom requested")
    return blob(int(request.removeprefix(b"blob:")))


async def report_messages(channel: trio.MemoryReceiveChannel[Any]) -> None:
    async for message in channel:
        emit({"event": "message", "from": message.peer_id, "size": len(message.data),
              "head": message.data[:64].decode("latin-1"),
              "sha256": hashlib.sha256(message.data).hexdigest(), "at": time.time()})


async def execute(node: P2PNode, command: dict[str, Any]) -> dict[str, Any]:
    op = command["op"]
    if op == "publish":
        data = command["text"].encode("latin-1") + b"\0" * command.get("pad", 0)
        await node.publish(command.get("topic", TOPIC), data)
        return {"at": time.time()}
    if op == "publish_many":
        started, begin = time.time(), trio.current_time()
        for index in range(command["count"]):
            await node.publish(TOPIC, f"{command['text']}-{index}|{time.time():.6f}|".encode()
                               .ljust(command.get("size", 0), b"."))
            if command.get("rate"):
                await trio.sleep_until(begin + (index + 1) / command["rate"])
        return {"started": started, "ended": time.time()}
    if op == "publish_batch":
        started = time.time()
        for index in range(command.get("count", 1)):
            await node.publish(TOPIC, batch_payload(f"{command['tag']}{index or ''}", command["items"],
                                                    command["item_size"]))
        return {"started": started, "ended": time.time()}
    if op == "request_loop":
        seconds = []
        for _ in range(command["count"]):
            started = time.perf_counter()
            await node.request(command["peer"], BLOB_PROTOCOL, command["data"].encode("latin-1"),
                               max_response_bytes=command["max_response_bytes"])
            seconds.append(time.perf_counter() - started)
        return {"seconds": seconds}
    if op == "request":
        started = time.perf_counter()
        response = await node.request(command["peer"], command.get("protocol", BLOB_PROTOCOL),
                                      command["data"].encode("latin-1"),
                                      max_response_bytes=command["max_response_bytes"])
        return {"size": len(response), "sha256": hashlib.sha256(response).hexdigest(),
                "seconds": time.perf_counter() - started}
    if op == "peers":
        return {"peers": node.connected_peers()}
    if op == "metrics":
        return {"metrics": node.metrics().__dict__}
    if op == "score":
        return {"score": node.score(command["peer"])}
    if op == "ping":
        return {"cpu_seconds": time.process_time()}
    raise ValueError(f"unknown op {op!r}")


async def serve_commands(node: P2PNode) -> None:
    stdin = trio.wrap_file(sys.stdin)
    async with trio.open_nursery() as nursery:
        async for line in stdin:
            nursery.start_soon(answer, node, json.loads(line))
        nursery.cancel_scope.cancel()


async def answer(node: P2PNode, command: dict[str, Any]) -> None:
    try:
        reply = {"ok": True, **await execute(node, command)}
    except P2PError as error:
        reply = {"ok": False, "error": type(error).__name__, "code": error.code, "detail": error.detail}
    emit({"event": "reply", "id": command["id"], **reply})


async def main(settings: dict[str, Any]) -> None:
    config = P2PConfig(
        seed=bytes.fromhex(settings["seed"]), listen_host="127.0.0.1", listen_port=settings["port"],
        static_peers=tuple(settings["peers"]),
        **settings.get("options", {}),
    )
    node = P2PNode(config)
    channel = node.subscribe(TOPIC, make_validator(settings.get("reject_prefix", "").encode(),
                                                   settings.get("ignore_prefix", "").encode()))
    node.set_handler(BLOB_PROTOCOL, handle_blob)
    async with trio.open_nursery() as nursery:
        await nursery.start(node.run)
        nursery.start_soon(report_messages, channel)
        emit({"event": "started", "peer_id": node.peer_id, "addrs": node.listen_addrs})
        await serve_commands(node)
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    configure_logging("json", "info")
    trio.run(main, json.loads(sys.argv[1]))
