"""Day profiles on the Europe/London wall clock, for load and price forecasts.

Series are keyed by the UTC start of each half-hour. Households and the Agile
tariff both follow local time, so "the same slot on an earlier day" means the
same wall-clock half-hour, which is 24 UTC hours back except across a clock
change. The weighting itself lives in `optimizer.forecast.same_slot_mean`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
import math

from ..optimizer.forecast import SLOTS_PER_DAY, same_slot_mean
from ..optimizer.horizon import UK_TZ

SLOT = timedelta(minutes=30)


def as_utc(value: object) -> datetime | None:
    """A timezone-aware datetime or ISO string as UTC; None for anything else."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        return None
    return value.astimezone(UTC)


def slot_floor(when: datetime) -> datetime:
    """Start (UTC) of the half-hour that contains `when`."""
    utc = when.astimezone(UTC)
    return utc.replace(minute=utc.minute // 30 * 30, second=0, microsecond=0)


def _wallclock_index(when: datetime, origin: date) -> int:
    local = when.astimezone(UK_TZ)
    day = (local.date() - origin).days
    return day * SLOTS_PER_DAY + local.hour * 2 + local.minute // 30


def profile_forecast(
    values: Mapping[datetime, float],
    starts: Sequence[datetime],
    known_before: datetime,
    *,
    days: int,
    decay: float,
    same_weekday_weight: float,
) -> list[float | None]:
    """Weighted mean of the same wall-clock half-hour on past days, per start; None without history.

    Only values of slots starting before `known_before` are read.
    """
    known = [start for start in values if start < known_before]
    if not known or not starts:
        return [None] * len(starts)
    origin = min(known).astimezone(UK_TZ).date()
    last = max(starts).astimezone(UK_TZ).date()
    size = ((last - origin).days + 1) * SLOTS_PER_DAY
    sums = [0.0] * size
    counts = [0] * size
    for start in known:
        value = values[start]
        if math.isnan(value):
            continue
        index = _wallclock_index(start, origin)
        # The repeated hour of an October clock change lands twice on one index.
        sums[index] += value
        counts[index] += 1
    series = [s / c if c else math.nan for s, c in zip(sums, counts, strict=True)]
    boundary = _wallclock_index(slot_floor(known_before), origin)
    return [
        same_slot_mean(
            series,
            _wallclock_index(start, origin),
            boundary,
            days=days,
            decay=decay,
            same_weekday_weight=same_weekday_weight,
        )
        for start in starts
    ]
