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
