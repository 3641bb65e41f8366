"""Slots of a booking trial, cut from its booking windows (pure)."""

from collections.abc import Iterator
from datetime import datetime, timedelta

MAX_SLOTS = 2000


def cut(
    windows: list[tuple[datetime, datetime]], minutes: int
) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive slots of `minutes` in each window; a shorter remainder is left unused."""
    length = timedelta(minutes=minutes)
    for start, end in sorted(windows):
        moment = start
        while moment + length <= end:
            yield moment, moment + length
            moment += length


def count(windows: list[tuple[datetime, datetime]], minutes: int) -> int:
    """How many slots `cut` gives, by arithmetic: a huge window is measured, not cut."""
    length = timedelta(minutes=minutes)
    return sum(max(end - start, timedelta(0)) // length for start, end in windows)
