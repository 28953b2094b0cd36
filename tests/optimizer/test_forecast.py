"""Forecasts read only the past, follow the Agile publication time and weigh days as documented."""

from __future__ import annotations

from datetime import UTC, datetime
import math

import pytest

from custom_components.battery_optimizer.optimizer.forecast import (
    SLOTS_PER_DAY,
    load_forecast_kw,
    price_forecast_p_per_kwh,
    pv_forecast_kw,
    same_slot_mean,
)
from custom_components.battery_optimizer.optimizer.horizon import published_until

from .backtest_fixture import load_timeline

TIMELINE = load_timeline()
DAY = SLOTS_PER_DAY


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Winter: UK time is UTC. Before 16:00 only today's prices are out.
        (
            datetime(2023, 1, 10, 15, 59, tzinfo=UTC),
            datetime(2023, 1, 10, 23, tzinfo=UTC),
        ),
        (
            datetime(2023, 1, 10, 16, 0, tzinfo=UTC),
            datetime(2023, 1, 11, 23, tzinfo=UTC),
        ),
        # Summer: 16:00 BST is 15:00 UTC and 23:00 BST is 22:00 UTC.
        (
            datetime(2023, 6, 10, 14, 30, tzinfo=UTC),
            datetime(2023, 6, 10, 22, tzinfo=UTC),
        ),
        (
            datetime(2023, 6, 10, 15, 0, tzinfo=UTC),
            datetime(2023, 6, 11, 22, tzinfo=UTC),
        ),
        # Just after midnight UK the day's prices are already known up to 23:00.
        (
            datetime(2023, 6, 10, 23, 30, tzinfo=UTC),
            datetime(2023, 6, 11, 22, tzinfo=UTC),
        ),
    ],
)
def test_published_until_follows_the_uk_publication_time(
    now: datetime, expected: datetime
) -> None:
    """Next-day prices appear at 16:00 UK time and reach 23:00 UK time."""
    assert published_until(now) == expected


def test_same_slot_mean_weighs_recent_days_and_the_same_weekday() -> None:
    """Day d back weighs decay**(d-1), doubled on the same weekday."""
    series = [float(t // DAY) for t in range(9 * DAY)]  # day k holds the value k
    target = 8 * DAY + 5
    got = same_slot_mean(
        series, target, known_before=target, days=7, decay=0.5, same_weekday_weight=2
    )
    weights = [0.5 ** (d - 1) * (2 if d == 7 else 1) for d in range(1, 8)]
    values = [8 - d for d in range(1, 8)]
    expected = sum(w * v for w, v in zip(weights, values, strict=True)) / sum(weights)
    assert got == pytest.approx(expected)


def test_same_slot_mean_skips_days_not_yet_known_and_missing_values() -> None:
    """Days at or after `known_before` are skipped; NaN days carry no weight."""
    series = [1.0] * (3 * DAY) + [math.nan] * DAY + [100.0] * DAY
    target = 4 * DAY + 3
    # "Now" is the start of day 3: day 3 (NaN) and day 4 (the target) are not seen.
    got = same_slot_mean(
        series, target, known_before=3 * DAY, days=3, decay=1.0, same_weekday_weight=1
    )
    assert got == 1.0
    assert (
        same_slot_mean(
            series, 10, known_before=10, days=3, decay=1.0, same_weekday_weight=1
        )
        is None
    )


def test_load_forecast_never_reads_the_future() -> None:
    """Changing what happens from `now` on leaves the forecast unchanged."""
    now, n = 4 * DAY + 17, 60
    before = load_forecast_kw(TIMELINE.load_kw, now, n)
    altered = list(TIMELINE.load_kw)
    altered[now:] = [99.0] * (len(altered) - now)
    assert load_forecast_kw(altered, now, n) == before
    assert all(v >= 0 for v in before)
    # The history does change it.
    altered_past = list(TIMELINE.load_kw)
    altered_past[now - DAY] = 99.0
    assert load_forecast_kw(altered_past, now, n)[0] > before[0]


def test_load_forecast_with_one_day_is_yesterday() -> None:
    """With one day of history the forecast is the same slot yesterday."""
    now = 2 * DAY
    got = load_forecast_kw(TIMELINE.load_kw, now, DAY, days=1)
    assert got == pytest.approx(TIMELINE.load_kw[now - DAY : now])


def test_pv_forecast_uses_the_provided_forecast_then_yesterday() -> None:
    """Provided values win; gaps fall back to the last known day's actual PV."""
    assert TIMELINE.pv_forecast_kw is not None
    provided = TIMELINE.pv_forecast_kw
    now, n = 3 * DAY, DAY
    got = pv_forecast_kw(TIMELINE.pv_kw, provided, now, n)
    with_forecast = [k for k in range(n) if not math.isnan(provided[now + k])]
    without = [k for k in range(n) if math.isnan(provided[now + k])]
    assert with_forecast
    assert without
    for k in with_forecast:
        assert got[k] == max(0.0, provided[now + k])
    for k in without:
        assert got[k] == TIMELINE.pv_kw[now + k - DAY]
    # Without a provided forecast a slot two days ahead uses the last known day.
    naive = pv_forecast_kw(TIMELINE.pv_kw, None, now, 2 * DAY)
    assert naive[DAY + 20] == TIMELINE.pv_kw[now + 20 - DAY]


def test_price_forecast_reads_only_published_prices() -> None:
    """Prices past publication come from known days; with one day, the same slot yesterday."""
    known_before = 5 * DAY
    got = price_forecast_p_per_kwh(
        TIMELINE.import_p_per_kwh, known_before, known_before, DAY, days=1
    )
    assert got == pytest.approx(
        TIMELINE.import_p_per_kwh[known_before - DAY : known_before]
    )
    altered = list(TIMELINE.import_p_per_kwh)
    altered[known_before:] = [500.0] * (len(altered) - known_before)
    assert price_forecast_p_per_kwh(
        altered, known_before, known_before, DAY
    ) == price_forecast_p_per_kwh(
        TIMELINE.import_p_per_kwh, known_before, known_before, DAY
    )
