"""A bounded memory of message ids, to deliver each gossip message at most once."""

from __future__ import annotations

from collections import OrderedDict


class SeenIds:
    """Keeps the ``capacity`` most recent ids; older ids are forgotten first."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[bytes, None] = OrderedDict()

    def add(self, message_id: bytes) -> bool:
        """Remember ``message_id``; False when it was already remembered."""
        if message_id in self._ids:
            self._ids.move_to_end(message_id)
            return False
        self._ids[message_id] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True
