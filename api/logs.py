"""What the server logs of a request: uvicorn's access log line without the query
string, whose values may be personal (a name searched for, a stated purpose)."""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"
HIDDEN = "?…"


class WithoutQueryString(logging.Filter):
    """Cuts the query string from uvicorn's access records
    (``'%s - "%s %s HTTP/%s" %d'``: client, method, path with query, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, _, query = args[2].partition("?")
            record.args = (args[0], args[1], path + (HIDDEN if query else ""), *args[3:])
        return True


def hide_query_strings() -> None:
    """Install the filter on uvicorn's access logger (once per process)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, WithoutQueryString) for f in logger.filters):
        logger.addFilter(WithoutQueryString())
