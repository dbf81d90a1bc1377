"""Heavy computations run in worker processes: once per key in flight, bounded, never
waited on for ever, and their errors arrive whole."""

from __future__ import annotations

import functools
import os
import threading
import time
from concurrent.futures import Future

import pytest

from gridgis.gis.errors import Busy, InvalidInput
from gridgis.gis.services.cache import ResultCache
from gridgis.gis.services.runner import ProcessRunner

# -- jobs: module-level, so that a worker process can run them ---------------------------


def counted(path: str, seconds: float) -> int:
    with open(path, "a") as handle:
        handle.write(f"{os.getpid()}\n")
    time.sleep(seconds)
    return os.getpid()


def sleeping(seconds: float, value: str) -> str:
    time.sleep(seconds)
    return value


def refusing() -> None:
    raise InvalidInput("bad cell size", field="cell")


def dying() -> None:
    os._exit(1)


def never_here() -> None:
    raise AssertionError("this ran in the caller")


@pytest.fixture(scope="module")
def runner():
    pool = ProcessRunner(slots=2, wait_s=10, max_pending=4)
    yield pool
    pool.close()


def test_identical_computations_in_flight_run_once_in_another_process(runner, tmp_path):
    log = tmp_path / "runs"
    cache = ResultCache(runner=runner)
    results: list[int] = []
    ask = functools.partial(cache.get_or_compute, ("same",), never_here,
                            functools.partial(counted, str(log), 0.5))
    askers = [threading.Thread(target=lambda: results.append(ask())) for _ in range(8)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert len(log.read_text().split()) == 1  # computed once
    assert len(set(results)) == 1 and results[0] != os.getpid()  # in a worker


def test_a_long_computation_answers_busy_then_lands_in_the_cache(tmp_path):
    runner = ProcessRunner(slots=1, wait_s=0.3)
    cache = ResultCache(runner=runner)
    job = functools.partial(sleeping, 2.0, "done")
    with pytest.raises(Busy) as busy:
        cache.get_or_compute(("slow",), never_here, job)
    assert busy.value.retry_after >= 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            assert cache.get_or_compute(("slow",), never_here, job) == "done"
            break
        except Busy:
            time.sleep(0.2)
    else:
        raise AssertionError("the result never landed in the cache")
    runner.close()


def test_an_analysis_can_bound_its_own_wait_below_the_runners(runner):
    """A runner that waits 10 s; an asker of a heavy analysis (the Knox test) is told
    to come back after its own bound, and the result lands in the cache meanwhile."""
    cache = ResultCache(runner=runner)
    job = functools.partial(sleeping, 1.5, "knox")
    started = time.monotonic()
    with pytest.raises(Busy) as busy:
        cache.get_or_compute(("bounded",), never_here, job, wait_s=0.3)
    assert time.monotonic() - started < 1.2 and busy.value.retry_after == 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            assert cache.get_or_compute(("bounded",), never_here, job, wait_s=0.3) == "knox"
            break
        except Busy:
            time.sleep(0.2)
    else:
        raise AssertionError("the result never landed in the cache")


def test_too_many_pending_computations_are_refused_at_once(runner):
    short = ProcessRunner(slots=1, wait_s=0.05, max_pending=2)
    cache = ResultCache(runner=short)
    for key in ("a", "b"):
        with pytest.raises(Busy):
            cache.get_or_compute((key,), never_here, functools.partial(sleeping, 3, key))
    with pytest.raises(Busy, match="2 analyses"):
        cache.get_or_compute(("c",), never_here, functools.partial(sleeping, 0, "c"))
    short.close()


def test_errors_arrive_with_their_details_and_are_not_cached(runner):
    cache = ResultCache(runner=runner)
    for _ in range(2):
        with pytest.raises(InvalidInput) as refused:
            cache.get_or_compute(("bad",), never_here, refusing)
        assert refused.value.details == {"field": "cell"}
    assert len(cache) == 0


def test_a_read_without_a_job_runs_in_the_caller(runner):
    cache = ResultCache(runner=runner)
    assert cache.get_or_compute(("read",), os.getpid) == os.getpid()


def test_a_dead_worker_is_replaced(tmp_path):
    runner = ProcessRunner(slots=1, wait_s=30)
    cache = ResultCache(runner=runner)
    with pytest.raises(Busy, match="restarted"):
        cache.get_or_compute(("die",), never_here, dying)
    assert cache.get_or_compute(("after",), never_here,
                                functools.partial(sleeping, 0, "fine")) == "fine"
    runner.close()


def test_closing_releases_the_askers_and_stops_the_workers():
    runner = ProcessRunner(slots=1, wait_s=60)
    cache = ResultCache(runner=runner)
    outcome: list[BaseException] = []

    def ask() -> None:
        try:
            cache.get_or_compute(("long",), never_here, functools.partial(sleeping, 60, "x"))
        except BaseException as exc:
            outcome.append(exc)

    asker = threading.Thread(target=ask)
    asker.start()
    time.sleep(3)  # the worker has started and is computing
    workers = list(runner._pool._processes.values())  # type: ignore[union-attr]
    runner.close()
    asker.join(10)
    assert isinstance(outcome[0], Busy) and "stopping" in outcome[0].message
    for worker in workers:
        assert _stopped(worker, within_s=10), f"worker {worker.pid} still runs"


def _stopped(worker, within_s: float) -> bool:
    """Whether the worker's process has ended. Not ``is_alive()``: the pool's own thread
    may reap the process between our ``waitpid`` calls, and ``is_alive()`` then reads the
    missing child as running."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        worker.join(0.2)
        if worker.exitcode is not None or _reaped_or_zombie(worker.pid):
            return True
    return False


def _reaped_or_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_work_done_before_it_is_watched_settles_its_flight():
    """A job can finish before its completion callback is registered; the callback then
    runs in the asking thread, which must not hold the runner's lock at that point."""
    class InstantPool:
        def submit(self, job):
            done: Future = Future()
            done.set_result(job())
            return done

    instant = ProcessRunner(slots=1, wait_s=5)
    instant._pool = InstantPool()  # type: ignore[assignment]
    answers: list[str] = []
    asker = threading.Thread(target=lambda: answers.append(
        instant.run("k", never_here, functools.partial(sleeping, 0, "done"), lambda v: v)),
        daemon=True)
    asker.start()
    asker.join(10)
    assert not asker.is_alive(), "the asker deadlocked on the runner's lock"
    assert answers == ["done"] and instant.pending() == 0
