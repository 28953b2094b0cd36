"""The tariff clock: the slot grid a plan runs on, and when Agile prices appear.

Slots are the tariff's half-hours, the first one partial. Octopus publishes the
next day's Agile prices at about 16:00 UK time, up to 23:00 UK time the next day.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

SLOT_LENGTH = timedelta(minutes=30)
UK_TZ = ZoneInfo("Europe/London")
PUBLICATION_TIME_UK = time(16, 0)
LAST_PRICE_END_UK = time(23, 0)


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


def published_until(now: datetime) -> datetime:
    """End (UTC) of the Agile prices known at `now`: 23:00 UK today, or tomorrow after 16:00."""
    local = now.astimezone(UK_TZ)
    day = local.date()
    if local.time() >= PUBLICATION_TIME_UK:
        day += timedelta(days=1)
    end = datetime.combine(day, LAST_PRICE_END_UK, tzinfo=UK_TZ)
    return end.astimezone(UTC)
