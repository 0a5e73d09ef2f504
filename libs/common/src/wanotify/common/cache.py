"""A small in-process TTL cache (API keys, default senders): saves a query per request.

Bounded in size; an entry lives ``ttl`` seconds, so a revoked key stops working within that time.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl: float, max_size: int = 10_000) -> None:
        self._ttl = ttl
        self._max = max_size
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        if self._ttl <= 0:
            return None
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if expires < time.monotonic():
            del self._items[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        if self._ttl <= 0:
            return
        self._items[key] = (time.monotonic() + self._ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def drop(self, key: K) -> None:
        self._items.pop(key, None)

    def drop_where(self, matches: Callable[[V], bool]) -> None:
        for key in [k for k, (_, v) in self._items.items() if matches(v)]:
            del self._items[key]
