"""Collecting each row's problems while a chunk is checked.

Every check adds its reasons by row position; a row ends up as one :class:`Rejection`
that lists all of them, so a user sees everything wrong with a row at once.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from ..errors import Rejection


class RowErrors:
    """The problems found so far in one chunk, by row position."""

    def __init__(self, first_row: int) -> None:
        self.first_row = first_row
        self.by_position: dict[int, list[tuple[str | None, str]]] = defaultdict(list)

    def add(self, positions, field_name: str | None, reason) -> None:
        for pos in np.atleast_1d(positions):
            text = reason(int(pos)) if callable(reason) else reason
            self.by_position[int(pos)].append((field_name, text))

    def rejections(self, frame: pd.DataFrame) -> list[Rejection]:
        result = []
        for pos in sorted(self.by_position):
            reasons = self.by_position[pos]
            result.append(Rejection(
                row=self.first_row + pos,
                field=reasons[0][0],
                reason="; ".join(f"{f}: {r}" if f else r for f, r in reasons),
                values=frame.iloc[pos].to_dict(),
            ))
        return result
