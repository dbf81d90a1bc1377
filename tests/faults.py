"""Faults for durability tests and benchmarks: concurrent writers over HTTP, and a
database stopped or killed under them."""

from __future__ import annotations

import threading
import time

import httpx
import psutil

from gridgis.gis.cluster import EmbeddedCluster

WRITERS = 32


def incident(marker: str) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.93, 60.165]},
            "properties": {"category": "dispute", "occurred_at": "2026-03-01T10:00:00Z",
                           "description": marker}}


class Writers:
    """``writers`` threads creating incidents until told to stop, keeping the ids and
    the seconds of every 2xx answer."""

    def __init__(self, base: str, marker: str, token: str, writers: int = WRITERS) -> None:
        self.base, self.marker = base, marker
        self.headers = {"Authorization": f"Bearer {token}"}
        self.acknowledged: list[int] = []
        self.seconds: list[float] = []
        self.statuses: dict[int, int] = {}
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._write, daemon=True)
                        for _ in range(writers)]

    def _write(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60, headers=self.headers) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    response = client.post("/incidents", json=incident(self.marker))
                except httpx.HTTPError:
                    continue  # no answer: nothing was acknowledged
                with self._lock:
                    self.statuses[response.status_code] = \
                        self.statuses.get(response.status_code, 0) + 1
                    if response.is_success:
                        self.acknowledged.append(response.json()["id"])
                        self.seconds.append(time.perf_counter() - started)

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(120)


def crash(cluster: EmbeddedCluster) -> None:
    """kill -9 the postmaster and every backend, as a power cut would."""
    postmaster = psutil.Process(cluster.status().pid)
    for process in [postmaster, *postmaster.children(recursive=True)]:
        process.kill()
    psutil.wait_procs([postmaster], timeout=10)


def stop_immediately(cluster: EmbeddedCluster) -> None:
    """pg_ctl stop -m immediate: every session ends at once, nothing is flushed."""
    cluster._run([cluster._bin("pg_ctl"), "-D", str(cluster.data_dir), "-m", "immediate",
                  "-w", "stop"], what="stop the test database")
