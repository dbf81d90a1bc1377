"""Compressed answers: pages, GeoJSON and the map libraries shrink 4-10x with gzip
(``GZipMiddleware``, for clients that take it); vector tiles come compressed already."""

from __future__ import annotations

GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 5  # most of level 9's saving for a third of its time

# Pages that carry a secret (a CSRF token) beside text a request puts there (a return
# address, a name) go uncompressed: compressed, their length would let an eavesdropper
# who can make the browser send requests learn the secret a guess at a time (BREACH).
# The middleware leaves alone an answer that names its encoding.
UNCOMPRESSED = {"Content-Encoding": "identity"}
