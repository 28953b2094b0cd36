"""Forecasts from the past only: load, PV and Agile prices beyond publication.

Every function works on a half-hourly series on a continuous grid (index t is
the slot starting t half-hours after the first) and reads only values before
`known_before`, so a backtest can never peek at the future. Missing values are
NaN and are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
import math

SLOTS_PER_DAY = 48
DAYS_PER_WEEK = 7
# Load: three weeks back, each day worth 0.85 of the day after it, and the
# same weekday counted twice: households repeat their weekly routine.
LOAD_DAYS = 21
LOAD_DECAY = 0.85
LOAD_SAME_WEEKDAY_WEIGHT = 2.0
# Prices: two weeks back; the wholesale level drifts, so recent days weigh most.
PRICE_DAYS = 14
PRICE_DECAY = 0.7
PRICE_SAME_WEEKDAY_WEIGHT = 1.5


def same_slot_mean(
    series: Sequence[float],
    target: int,
    known_before: int,
    *,
    days: int,
    decay: float,
    same_weekday_weight: float,
) -> float | None:
    """Weighted mean of the same half-hour on up to `days` known past days; None if none."""
    total = weight_sum = 0.0
    found = 0
    lag = 1
    # Days the target is too close to "now" for are skipped, not counted.
    while found < days and target - lag * SLOTS_PER_DAY >= 0:
        index = target - lag * SLOTS_PER_DAY
        lag += 1
        if index >= known_before:
            continue
        value = series[index]
        found += 1
        if math.isnan(value):
            continue
        weight = decay ** (found - 1)
        if (lag - 1) % DAYS_PER_WEEK == 0:
            weight *= same_weekday_weight
        total += weight * value
        weight_sum += weight
    return total / weight_sum if weight_sum > 0 else None


def load_forecast_kw(
    load_kw: Sequence[float], now: int, n_slots: int, *, days: int = LOAD_DAYS
) -> list[float]:
    """House load for slots now..now+n-1 from the past days; 0 where there is no history."""
    out: list[float] = []
    for target in range(now, now + n_slots):
        value = same_slot_mean(
            load_kw,
            target,
            now,
            days=days,
            decay=LOAD_DECAY,
            same_weekday_weight=LOAD_SAME_WEEKDAY_WEIGHT,
        )
        out.append(max(0.0, value) if value is not None else 0.0)
    return out


def pv_forecast_kw(
    pv_kw: Sequence[float],
    provided_kw: Sequence[float] | None,
    now: int,
    n_slots: int,
) -> list[float]:
    """PV for slots now..now+n-1: the provided forecast where present, else the same slot on the last known day."""
    out: list[float] = []
    for target in range(now, now + n_slots):
        value = math.nan
        if provided_kw is not None:
            value = provided_kw[target]
        lag = 1
        while math.isnan(value) and target - lag * SLOTS_PER_DAY >= 0:
            index = target - lag * SLOTS_PER_DAY
            if index < now:
                value = pv_kw[index]
            lag += 1
        out.append(max(0.0, value) if not math.isnan(value) else 0.0)
    return out


def price_forecast_p_per_kwh(
    prices_p_per_kwh: Sequence[float],
    known_before: int,
    first: int,
    n_slots: int,
    *,
    days: int = PRICE_DAYS,
) -> list[float]:
    """Prices for slots first..first+n-1 beyond publication: half-hour x weekday profile of recent days."""
    out: list[float] = []
    fallback = _recent_mean(prices_p_per_kwh, known_before)
    for target in range(first, first + n_slots):
        value = same_slot_mean(
            prices_p_per_kwh,
            target,
            known_before,
            days=days,
            decay=PRICE_DECAY,
            same_weekday_weight=PRICE_SAME_WEEKDAY_WEIGHT,
        )
        out.append(value if value is not None else fallback)
    return out


def _recent_mean(series: Sequence[float], known_before: int) -> float:
    """Mean of the last day of known values, for targets without any history."""
    window = [
        v
        for v in series[max(0, known_before - SLOTS_PER_DAY) : known_before]
        if not math.isnan(v)
    ]
    return sum(window) / len(window) if window else 0.0
