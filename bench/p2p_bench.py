"""Measure the p2p layer with 4 node processes on 127.0.0.1.

Usage: ``.venv/bin/python bench/p2p_bench.py [--json] [--rate 50] [--messages 300]``

Figures: gossip latency p50/p99 at a fixed publish rate; gossip throughput in
messages/s (~200-byte messages) and in items/s (100-item batches of 200-byte
items); request/response round trip p50/p99 (small request, small response);
bulk transfer MB/s (8 MB responses); receiver CPU per message, which does not
depend on what else the machine runs. Latency uses the one machine's clock: the
publisher stamps each payload, receivers note the arrival time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "p2p"))

from p2p_cluster import ChildNode, full_mesh_specs, running, wait_connected, warm_up  # noqa: E402

NODES = 4
BATCH_ITEMS = 100
ITEM_BYTES = 200
BULK_BYTES = 8_000_000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def wait_all(receivers: list[ChildNode], prefix: str, count: int) -> None:
    for receiver in receivers:
        await receiver.wait_until(lambda receiver=receiver: len(receiver.received(prefix)) >= count)


async def gossip_latency(publisher: ChildNode, receivers: list[ChildNode], rate: int,
                         count: int) -> dict[str, float]:
    await publisher.command("publish_many", text="lat", count=count, rate=rate, size=200)
    await wait_all(receivers, "lat-", count)
    delays = [message["at"] - float(message["head"].split("|")[1])
              for receiver in receivers for message in receiver.received("lat-")]
    return {"rate_msg_per_s": rate, "p50_ms": 1000 * percentile(delays, 0.5),
            "p99_ms": 1000 * percentile(delays, 0.99), "samples": len(delays)}


async def cpu_seconds(nodes: list[ChildNode]) -> list[float]:
    return [(await node.command("ping"))["cpu_seconds"] for node in nodes]


async def gossip_throughput(publisher: ChildNode, receivers: list[ChildNode], count: int,
                            op: str, prefix: str, **arguments: Any) -> dict[str, float]:
    """Messages/s from first publish to last delivery, and receiver CPU per message."""
    cpu_before = await cpu_seconds(receivers)
    reply = await publisher.command(op, count=count, **arguments)
    await wait_all(receivers, prefix, count)
    cpu_after = await cpu_seconds(receivers)
    last = max(message["at"] for receiver in receivers for message in receiver.received(prefix))
    cpu_per_message = statistics.mean(after - before for before, after in zip(cpu_before, cpu_after)) / count
    return {"msgs_per_s": count / (last - reply["started"]),
            "receiver_cpu_ms_per_msg": 1000 * cpu_per_message}


async def request_rtt(client: ChildNode, server: ChildNode, count: int) -> dict[str, float]:
    reply = await client.command("request_loop", peer=server.peer_id, data="blob:100", count=count,
                                 max_response_bytes=1000)
    seconds = reply["seconds"]
    return {"p50_ms": 1000 * percentile(seconds, 0.5), "p99_ms": 1000 * percentile(seconds, 0.99),
            "samples": len(seconds)}


async def bulk_mb_per_s(client: ChildNode, server: ChildNode) -> float:
    rates = []
    for _ in range(3):
        reply = await client.command("request", peer=server.peer_id, data=f"blob:{BULK_BYTES}",
                                     max_response_bytes=BULK_BYTES)
        assert reply["ok"], reply
        rates.append(reply["size"] / reply["seconds"] / 1e6)
    return statistics.median(rates)


async def measure(rate: int, messages: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="p2p-bench-") as log_dir:
        started = time.perf_counter()
        async with running(full_mesh_specs(NODES), Path(log_dir)) as nodes:
            with trio.fail_after(300):
                for node in nodes:
                    await wait_connected(node, [other.peer_id for other in nodes if other is not node])
                mesh_seconds = time.perf_counter() - started
                publisher, receivers = nodes[0], nodes[1:]
                await warm_up(publisher, receivers)
                return {
                    "nodes": NODES,
                    "spawn_to_connected_s": round(mesh_seconds, 2),
                    "gossip_latency": await gossip_latency(publisher, receivers, rate, messages),
                    "gossip_throughput": await gossip_throughput(
                        publisher, receivers, messages, "publish_many", "tput-", text="tput", size=200),
                    "gossip_batches": await gossip_throughput(
                        publisher, receivers, max(10, messages // 10), "publish_batch", "batch-b",
                        tag="b", items=BATCH_ITEMS, item_size=ITEM_BYTES),
                    "request_rtt": await request_rtt(nodes[1], nodes[2], messages),
                    "bulk_response_mb_per_s": await bulk_mb_per_s(nodes[1], nodes[2]),
                }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rate", type=int, default=50, help="publish rate for the latency run")
    parser.add_argument("--messages", type=int, default=300, help="messages per gossip run")
    arguments = parser.parse_args()
    results = trio.run(measure, arguments.rate, arguments.messages)
    if arguments.json:
        print(json.dumps(results, sort_keys=True))
        return
    latency, rtt = results["gossip_latency"], results["request_rtt"]
    plain, batches = results["gossip_throughput"], results["gossip_batches"]
    print(f"nodes                       {results['nodes']} processes on 127.0.0.1 "
          f"(spawn to connected {results['spawn_to_connected_s']} s)")
    print(f"gossip latency @{latency['rate_msg_per_s']} msg/s    p50 {latency['p50_ms']:.1f} ms, "
          f"p99 {latency['p99_ms']:.1f} ms ({latency['samples']} deliveries)")
    print(f"gossip throughput           {plain['msgs_per_s']:.0f} msg/s (200-byte messages), "
          f"receiver CPU {plain['receiver_cpu_ms_per_msg']:.2f} ms/msg")
    print(f"gossip items in batches     {batches['msgs_per_s'] * BATCH_ITEMS:.0f} items/s "
          f"({BATCH_ITEMS} x {ITEM_BYTES} bytes per message), "
          f"receiver CPU {batches['receiver_cpu_ms_per_msg']:.2f} ms/batch")
    print(f"request/response RTT        p50 {rtt['p50_ms']:.1f} ms, p99 {rtt['p99_ms']:.1f} ms")
    print(f"bulk response               {results['bulk_response_mb_per_s']:.1f} MB/s "
          f"({BULK_BYTES // 1_000_000} MB responses)")


if __name__ == "__main__":
    main()
