"""A bounded memory of recently handled ids (webhook event ids), oldest forgotten first."""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    """Remembers at most ``capacity`` ids; a cheap local filter in front of the ledger's own check."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, item: str) -> bool:
        return item in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, item: str) -> None:
        self._ids[item] = None
        self._ids.move_to_end(item)
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
