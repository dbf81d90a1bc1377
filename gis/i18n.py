"""Bilingual text: every label is a (Simplified Chinese, English) pair."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """The text of a (zh, en) pair in ``lang``."""
    return pair[0] if lang == "zh" else pair[1]
