"""A bounded cache of computed results, owned by whoever runs the service (the web app
keeps one in its state; a command makes its own), never a module global. Misses are
computed through the owner's runner (:mod:`.runner`), which stores the result here when
it is done, also when the asker has stopped waiting."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .runner import InlineRunner, Job, Runner


class ResultCache:
    """A small LRU keyed by (analysis, parameters, data version): a key from an older
    version of the data is never asked for again and simply ages out."""

    def __init__(self, size: int = 64, runner: Runner | None = None) -> None:
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self.runner: Runner = runner or InlineRunner()

    def get_or_compute(self, key: tuple, compute: Callable[[], Any],
                       job: Job | None = None, wait_s: float | None = None) -> Any:
        """The cached value of ``key``, or the value computed (by ``compute`` here, or by
        ``job``, the same computation as a picklable call, in the runner's workers,
        waiting at most ``wait_s`` before the asker is told to come back)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return self.runner.run(key, compute, job, functools.partial(self._store, key),
                               wait_s=wait_s)

    def _store(self, key: tuple, value: Any) -> Any:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


class SizedCache:
    """An LRU of byte strings (or anything with a size) within a budget of bytes, for
    answers keyed by the versions of what they are made from: an entry of an older
    version is never asked for again and ages out."""

    def __init__(self, budget_bytes: int) -> None:
        self._items: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self._budget = budget_bytes
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: tuple, value: Any, size: int) -> None:
        if size > self._budget:
            return
        with self._lock:
            if key in self._items:
                self._used -= self._items.pop(key)[1]
            self._items[key] = (value, size)
            self._used += size
            while self._used > self._budget:
                self._used -= self._items.popitem(last=False)[1][1]

    def __len__(self) -> int:
        return len(self._items)
