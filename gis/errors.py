"""The one domain error hierarchy; the API maps each class to an HTTP status."""

from __future__ import annotations

import dataclasses
from typing import Any


class GridGisError(Exception):
    """Base of every error gridgis raises on purpose; the message is for the user."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __reduce__(self):
        # Pickled whole (an analysis' error crosses from its worker process): the
        # default would rebuild it from ``args`` and lose the details.
        return _restore, (type(self), self.args, self.__dict__.copy())


def _restore(cls: type[GridGisError], args: tuple, state: dict) -> GridGisError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigurationError(GridGisError):
    """The environment cannot run gridgis (missing binaries, unwritable directory...)."""


class DatabaseUnavailable(GridGisError):
    """The database cannot be reached."""


class Busy(GridGisError):
    """Too much heavy work at once, or an answer still being computed: ask again after
    ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StillComputing(Busy):
    """The answer is being computed and will be kept: it goes on after the asker was
    told to come back (unlike a refusal, which starts nothing)."""


class NotInitialised(GridGisError):
    """The database has no gridgis schema yet."""


class NotFound(GridGisError):
    pass


class Conflict(GridGisError):
    pass


class NotAuthenticated(GridGisError):
    """No signed-in user or valid token (or a bad, expired or revoked one)."""


class Forbidden(GridGisError):
    """The signed-in user's roles do not allow this."""


class TooManyAttempts(GridGisError):
    """Sign-in attempts refused for a while (rate limit or lockout)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidInput(GridGisError):
    """Bad input; ``details`` say where (field, feature/row number)."""


@dataclasses.dataclass
class Rejection:
    """One rejected input row: its 1-based number in the file and why."""

    row: int
    reason: str
    field: str | None = None
    values: dict[str, Any] = dataclasses.field(default_factory=dict)


class ImportRejected(InvalidInput):
    """An import found bad rows and wrote nothing."""

    def __init__(self, message: str, rejections: list[Rejection]) -> None:
        super().__init__(message, rejections=[r.__dict__ for r in rejections])
        self.rejections = rejections
