"""The slot grid a plan runs on: tariff half-hours, the first one partial."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

SLOT_LENGTH = timedelta(minutes=30)


def next_boundary(now: datetime) -> datetime:
    """The next :00 or :30 (UTC) strictly after `now`."""
    now_utc = now.astimezone(UTC)
    floor = now_utc.replace(minute=now_utc.minute // 30 * 30, second=0, microsecond=0)
    return floor + SLOT_LENGTH


def slot_grid(now: datetime, horizon: timedelta) -> list[tuple[datetime, float]]:
    """Slot starts and lengths in hours from `now` until `now + horizon`.

    The first slot runs from now to the next half-hour boundary, so each later
    slot lines up with one tariff period; the last slot is cut at the horizon.
    """
    if horizon <= timedelta(0):
        return []
    start = now.astimezone(UTC)
    end = start + horizon
    grid: list[tuple[datetime, float]] = []
    boundary = next_boundary(start)
    while start < end:
        stop = min(boundary, end)
        grid.append((start, (stop - start).total_seconds() / 3600))
        start, boundary = stop, stop + SLOT_LENGTH
    return grid
