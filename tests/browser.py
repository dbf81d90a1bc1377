"""A live server and a headless Chromium with the network cut off, for page tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
SCREENSHOTS = Path(__file__).parent / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(app) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class PageLog:
    failed: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@contextmanager
def browser_page(base_url: str, token: str | None = None, *, timed: bool = False
                 ) -> Iterator[tuple[Page, PageLog]]:
    """A page whose requests may only reach ``base_url``; everything else is aborted and
    recorded, as are failed requests and console errors. With ``token``, every request
    carries it as a bearer token (a scripted fetch, as a GIS tool or test would).

    ``timed`` (benchmarks): the browser itself resolves no host but the server's, instead
    of every request passing through this process to be let through; a request elsewhere
    fails and is recorded as failed, and nothing is added to the page's own timings."""
    log = PageLog()
    with sync_playwright() as p:
        host = urlsplit(base_url).hostname
        cut_off = [f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {host}"] if timed else []
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + cut_off)
        context = browser.new_context(viewport={"width": 1280, "height": 860},
                                      locale="zh-CN")

        def gate(route):
            if route.request.url.startswith(base_url) or route.request.url.startswith("data:"):
                route.continue_()
            else:
                log.external.append(route.request.url)
                route.abort()

        if token is not None:
            context.set_extra_http_headers({"Authorization": f"Bearer {token}"})
        if not timed:
            context.route("**/*", gate)
        page = context.new_page()
        page.on("requestfailed", lambda r: log.failed.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r: log.failed.append(f"{r.url} HTTP {r.status}")
                if r.status >= 400 else None)
        page.on("console", lambda m: log.console_errors.append(m.text)
                if m.type == "error" else None)
        page.on("pageerror", lambda e: log.page_errors.append(str(e)))
        try:
            yield page, log
        finally:
            context.close()
            browser.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
