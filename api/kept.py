"""Answers kept per data version: a map page or an analysis is made once for each change
of the data and each reader's view of it (roles, scope, purpose), then served from
memory, compressed once, with an ETag a browser sends back to be told "unchanged" (304)
in one small answer.

The version of the data is taken before the answer is made, so a kept answer is never
older than its key: the count of changes the worker has heard of (``NOTIFY
gridgis_data``, migration 0019; a change shows as soon as its notice arrives), or, while
the notices cannot be heard, the tables' versions read from the database (0018). An
answer of an older version is never asked for again and ages out of the worker's budget
(``GRIDGIS_API_ANSWER_CACHE_MB``). The ETag is the content's hash,
so every worker gives the same one for the same answer. Answers the middleware must not
compress (pages carrying a CSRF token) and anything but a 200 are passed through, never
kept."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio.to_thread
from fastapi import Request, Response

from gridgis.gis.access.principal import Principal
from gridgis.gis.services.cache import SizedCache
from gridgis.gis.versions import DATA_TABLES, table_version

from .compression import GZIP_LEVEL, GZIP_MIN_BYTES

REVALIDATE = {"Cache-Control": "private, no-cache",
              "Vary": "Authorization, Cookie, Accept-Encoding"}


@dataclass(frozen=True)
class KeptAnswer:
    body: bytes
    gzipped: bytes | None  # None: too small to be worth it
    media_type: str
    etag: str

    @classmethod
    def of(cls, response: Response) -> KeptAnswer:
        body = bytes(response.body)
        gzipped = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0) \
            if len(body) >= GZIP_MIN_BYTES else None
        media_type = response.headers.get("content-type", response.media_type or "")
        return cls(body, gzipped, media_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"')

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"") + 200

    def response(self, request: Request) -> Response:
        compressed = self.gzipped is not None and \
            _accepts_gzip(request.headers.get("accept-encoding", ""))
        tag = self.etag[:-1] + '-gz"' if compressed else self.etag
        headers = {**REVALIDATE, "ETag": tag}
        sent = request.headers.get("if-none-match")
        if sent is not None and tag in [t.strip() for t in sent.split(",")]:
            return Response(status_code=304, headers=headers)
        if compressed:
            return Response(self.gzipped, headers={**headers, "Content-Encoding": "gzip",
                                                   "Content-Type": self.media_type})
        return Response(self.body, headers={**headers, "Content-Type": self.media_type})


class KeptAnswers:
    """One worker's kept answers, and the answers being made (asked again meanwhile, an
    answer is made once and the others wait for it)."""

    def __init__(self, budget_bytes: int) -> None:
        self.cache = SizedCache(budget_bytes)
        self._making: dict[tuple, asyncio.Future[KeptAnswer | Response]] = {}

    async def answer(self, request: Request, make: Callable[[], Awaitable[Response]],
                     tables: tuple[str, ...] = DATA_TABLES) -> Response:
        """The answer ``make`` gives to this request, kept for the version of the
        ``tables`` it is made from."""
        who: Principal | None = getattr(request.state, "principal", None)
        if who is None:  # not through authenticate: nothing to key a reader's view by
            return await make()
        state = request.app.state.gridgis
        heard = state.heard_changes.current(tables)
        version = ("heard", heard) if heard is not None else \
            ("read", await anyio.to_thread.run_sync(_version, state.database.engine, tables))
        key = (request.url.path, tuple(sorted(request.query_params.multi_items())),
               who.view(), tables, version, datetime.now(UTC).date())
        kept = self.cache.get(key)
        if kept is None:
            kept = await self._made(key, make)
            if isinstance(kept, Response):
                return kept
        return kept.response(request)

    async def _made(self, key: tuple, make: Callable[[], Awaitable[Response]]
                    ) -> KeptAnswer | Response:
        making = self._making.get(key)
        if making is not None:
            try:
                return await asyncio.shield(making)
            except asyncio.CancelledError:
                if making.cancelled():  # its maker went away: make it here
                    return await self._made(key, make)
                raise
        making = self._making[key] = asyncio.get_running_loop().create_future()
        try:
            response = await make()
            if response.status_code != 200 or "content-encoding" in response.headers \
                    or not hasattr(response, "body"):
                making.set_result(response)
                return response
            kept = await anyio.to_thread.run_sync(KeptAnswer.of, response)  # MBs: gzip
            self.cache.put(key, kept, kept.size)
            making.set_result(kept)
            return kept
        except asyncio.CancelledError:
            making.cancel()
            raise
        except Exception as exc:
            making.set_exception(exc)
            making.exception()  # marked retrieved: those waiting get it, no one else must
            raise
        finally:
            del self._making[key]


def _accepts_gzip(header: str) -> bool:
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=")
            try:
                return not params.strip() or float(quality) > 0
            except ValueError:
                return False
    return False


def _version(engine, tables: tuple[str, ...]) -> int:
    with engine.connect() as conn:
        return table_version(conn, tables)
