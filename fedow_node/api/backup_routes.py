"""The chain of the running node for its backup: every store entry from one LevelDB snapshot.

``fedow-node backup`` asks this of a node that is running (the store is then locked by
the node's process, and only the node can take a snapshot of it). The answer is a
msgpack stream of ``[key, value]`` pairs in key order ending with ``["end", count]``, so
a cut connection shows as a missing end. The snapshot is read in chunks on a worker
thread: the node keeps committing and serving the tills meanwhile. Operator only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from itertools import islice

import msgpack
from aiohttp import web

from fedow_node.api.context import context
from fedow_node.api.routes import Route

__all__ = ["ROUTES", "SNAPSHOT_PATH"]

SNAPSHOT_PATH = "/v1/admin/chain-snapshot"
_CHUNK_ENTRIES = 2_000


def _chunk(entries: Iterator[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return list(islice(entries, _CHUNK_ENTRIES))


async def chain_snapshot(request: web.Request) -> web.StreamResponse:
    entries = context(request).node.store.export_entries()
    loop = asyncio.get_running_loop()
    packer = msgpack.Packer(use_bin_type=True)
    response = web.StreamResponse(headers={"Content-Type": "application/x-msgpack"})
    await response.prepare(request)
    count = 0
    try:
        while chunk := await loop.run_in_executor(None, _chunk, entries):
            await response.write(b"".join(packer.pack([key, value]) for key, value in chunk))
            count += len(chunk)
    finally:
        entries.close()  # releases the snapshot
    await response.write(packer.pack(["end", count]))
    await response.write_eof()
    return response


ROUTES = (
    Route("GET", SNAPSHOT_PATH, chain_snapshot, "Every entry of the node's store from one snapshot, for its backup "
          "(msgpack [key, value] pairs, then [\"end\", count])", "admin", access="operator",
          content_type="application/x-msgpack"),
)
