"""The lane analyses take through the service: their own few threads, so that however
many requests ask for analyses, the threads that answer light requests (``/grids/at``,
lists, pages) stay free. A request that cannot get a thread, or whose answer is not
ready, within the wait gets a 503 with Retry-After instead of queueing without end."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from gridgis.gis.errors import Busy

T = TypeVar("T")


class AnalyticsLane:
    def __init__(self, threads: int, wait_s: float) -> None:
        self.threads = threads
        self.wait_s = wait_s
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        # Made on first use, inside the event loop that serves the requests.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.threads)
        return self._limiter

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            with anyio.fail_after(self.wait_s):
                return await anyio.to_thread.run_sync(
                    functools.partial(fn, *args, **kwargs), limiter=self.limiter,
                    abandon_on_cancel=True)
        except TimeoutError:
            raise Busy("the analyses are busy; ask again shortly",
                       retry_after=max(1, int(self.wait_s // 2))) from None
