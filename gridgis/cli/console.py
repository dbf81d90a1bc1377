"""Output of the command line: results on stdout, errors and progress on stderr."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from gridgis.gis.errors import Rejection

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
SHOWN_REJECTIONS = 20


def error_line(message: str) -> None:
    err.print("[bold red]error:[/] " + escape(message), highlight=False, soft_wrap=True)


class Steps:
    """A progress bar's handle: ``advance(n)`` or ``update(done, total)``."""

    def __init__(self, progress, task) -> None:
        self._progress = progress
        self._task = task

    def advance(self, amount: int = 1) -> None:
        self._progress.update(self._task, advance=amount)

    def update(self, done: int, total: int | None = None) -> None:
        self._progress.update(self._task, completed=done, total=total)

    def describe(self, text: str) -> None:
        self._progress.update(self._task, description=text)


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Steps]:
    """A progress bar on stderr (only on a terminal), with a total where one is known."""
    with _bars() as bar:
        yield Steps(bar, bar.add_task(description, total=total))


@contextmanager
def progress_per_key(describe: Callable[[str], str]
                     ) -> Iterator[Callable[[str, int, int | None], None]]:
    """Progress bars on stderr (only on a terminal), one per key as it first reports:
    yields ``update(key, done, total)``."""
    with _bars() as bar:
        tasks: dict[str, TaskID] = {}

        def update(key: str, done: int, total: int | None) -> None:
            if key not in tasks:
                tasks[key] = bar.add_task(describe(key), total=total)
            bar.update(tasks[key], completed=done, total=total)

        yield update


def _bars() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TimeElapsedColumn,
    )

    return Progress(SpinnerColumn(), "[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True,
                    disable=not err.is_terminal)


def print_rejections(rejections: list[Rejection]) -> None:
    for r in rejections[:SHOWN_REJECTIONS]:
        err.print(f"  row {r.row}: {escape(r.reason)}", highlight=False, soft_wrap=True)
    if len(rejections) > SHOWN_REJECTIONS:
        err.print(f"  … and {len(rejections) - SHOWN_REJECTIONS} more rows")


def row_list(rows: list[int]) -> str:
    shown = ", ".join(map(str, rows[:SHOWN_REJECTIONS]))
    more = len(rows) - SHOWN_REJECTIONS
    return shown + (f" and {more} more" if more > 0 else "")
