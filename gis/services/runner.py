"""Running heavy computations: in the caller's thread (a command), or in a bounded pool
of worker processes (the service).

The process runner keeps analyses out of the process that answers requests, so that
however many requests ask for analyses, at most ``slots`` compute at once and none takes
the CPU time or the interpreter lock the light requests need. Identical computations in
flight run once and every asker shares the result (single flight). An asker waits at
most ``wait_s``: past that it is told to come back (:class:`Busy`), while the
computation goes on and its result lands in the cache for the next ask. A computation
is sent to a worker as a *job*, a picklable call that repeats it there; what has no job
(a short read) runs in the caller's thread.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, InvalidStateError, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from ..errors import Busy, StillComputing

log = logging.getLogger("gridgis.analytics")
Job = Callable[[], Any]  # picklable: a module-level function, its arguments bound


class Runner(Protocol):
    def run(self, key: Hashable, compute: Callable[[], Any], job: Job | None,
            store: Callable[[Any], Any], wait_s: float | None = None) -> Any: ...

    def close(self) -> None: ...


class InlineRunner:
    """Compute in the caller's thread (commands: one user, nothing to protect)."""

    def run(self, key: Hashable, compute: Callable[[], Any], job: Job | None,
            store: Callable[[Any], Any], wait_s: float | None = None) -> Any:
        return store(compute())

    def close(self) -> None:
        pass


STOP_GRACE_S = 1.5  # how long closing waits for terminated workers before killing them


class ProcessRunner:
    def __init__(self, slots: int = 1, wait_s: float = 20.0, max_pending: int = 16,
                 initializer: Callable[..., None] | None = None, initargs: tuple = ()
                 ) -> None:
        self.slots = slots
        self.wait_s = wait_s
        self.max_pending = max_pending
        self._initializer, self._initargs = initializer, initargs
        self._flights: dict[Hashable, Future] = {}
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def warm(self, job: Job) -> None:
        """Start the workers now and run ``job`` on them (imports), not on first ask."""
        pool = self._ensure_pool()
        for _ in range(self.slots):
            pool.submit(job)

    def run(self, key: Hashable, compute: Callable[[], Any], job: Job | None,
            store: Callable[[Any], Any], wait_s: float | None = None) -> Any:
        """The result, waiting at most ``wait_s`` (no longer than the runner's own
        ``wait_s``) before telling the asker to come back."""
        if job is None:
            return store(compute())
        limit = self.wait_s if wait_s is None else min(wait_s, self.wait_s)
        work = None
        with self._lock:
            flight = self._flights.get(key)
            if flight is None:
                flight, work = self._start(key, job)
        if work is not None:
            # Outside the lock: a job already done runs the callback here, and it locks.
            work.add_done_callback(self._finisher(key, flight, store))
        try:
            return flight.result(timeout=limit)
        except FutureTimeout:
            raise StillComputing("the analysis is still being computed; its result will be "
                                 "kept: ask again shortly",
                                 retry_after=max(1, int(limit // 2))) from None

    @property
    def retry_after(self) -> int:
        return max(1, int(self.wait_s // 2))

    def pending(self) -> int:
        with self._lock:
            return len(self._flights)

    def close(self) -> None:
        """Release every asker (told to come back) and stop the workers at once."""
        with self._lock:
            self._closed = True
            flights, self._flights = list(self._flights.values()), {}
            pool, self._pool = self._pool, None
        for flight in flights:
            _settle(flight, error=Busy("the service is stopping", retry_after=5))
        if pool is not None:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            # A worker still starting up when the pool shuts down can outlive SIGTERM
            # (or be started just then): terminate, wait briefly, then kill what is left.
            processes += [p for p in (getattr(pool, "_processes", None) or {}).values()
                          if p not in processes]
            for process in processes:
                process.terminate()
            deadline = time.monotonic() + STOP_GRACE_S
            for process in processes:
                process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    process.kill()

    # -- internals (called with the lock held) ------------------------------------------

    def _start(self, key: Hashable, job: Job) -> tuple[Future, Future]:
        """The flight askers wait on, and the work submitted for it."""
        if self._closed:
            raise Busy("the service is stopping", retry_after=5)
        if len(self._flights) >= self.max_pending:
            raise Busy(f"{len(self._flights)} analyses are being computed; ask again "
                       "shortly", retry_after=self.retry_after)
        flight: Future = Future()
        flight.set_running_or_notify_cancel()
        try:
            work = self._ensure_pool().submit(job)
        except BrokenProcessPool:
            self._pool = None  # a worker died: the next ask gets a fresh pool
            raise Busy("the analysis workers restarted; ask again", retry_after=1) from None
        self._flights[key] = flight
        return flight, work

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.slots, mp_context=multiprocessing.get_context("spawn"),
                initializer=self._initializer, initargs=self._initargs)
        return self._pool

    def _finisher(self, key: Hashable, flight: Future, store: Callable[[Any], Any]
                  ) -> Callable[[Future], None]:
        def finish(work: Future) -> None:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            if work.cancelled():
                _settle(flight, error=Busy("the service is stopping", retry_after=5))
                return
            error = work.exception()
            if isinstance(error, BrokenProcessPool):
                with self._lock:
                    self._pool = None
                log.error("an analysis worker died; the pool restarts on the next ask")
                error = Busy("the analysis workers restarted; ask again", retry_after=1)
            if error is not None:
                _settle(flight, error=error)
            else:
                _settle(flight, value=store(work.result()))
        return finish


def _settle(future: Future, value: Any = None, error: BaseException | None = None) -> None:
    """Give a future its outcome, unless a closing runner has released its askers."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)
    except InvalidStateError:
        pass
