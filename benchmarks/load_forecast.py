"""Load forecast against naive persistence on the real homes in ../shared/data.

For every local day with a full week of history before it, the forecast made
at local midnight is compared with what the home used; naive persistence takes
the same half-hour of the day before. The error of a day is the sum of the
half-hourly absolute errors (kWh); both figures are means over the same days.

Run from the project root: `.venv/bin/python -m benchmarks.load_forecast`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import sys

from benchmarks._data import SLOT, read_half_hourly
from custom_components.battery_optimizer.forecasts.load import forecast_load
from custom_components.battery_optimizer.optimizer.horizon import UK_TZ

HISTORY_DAYS = 7
# Only the spare fallback depends on this; every evaluated day has history.
DAILY_KWH = 10.0
W_PER_KW = 1000.0
SLOT_H = 0.5


@dataclass
class Score:
    """Summed daily errors of both methods over the days both could score."""

    ours_kwh: float = 0.0
    naive_kwh: float = 0.0
    days: int = 0

    def add(self, other: Score) -> None:
        """Add another home's days."""
        self.ours_kwh += other.ours_kwh
        self.naive_kwh += other.naive_kwh
        self.days += other.days


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UK_TZ).astimezone(UTC)


def evaluate(kwh: dict[datetime, float]) -> Score:
    """Score our forecast and persistence on every complete day after a week of history."""
    score = Score()
    first = min(kwh).astimezone(UK_TZ).date() + timedelta(days=HISTORY_DAYS + 1)
    last = max(kwh).astimezone(UK_TZ).date()
    day = first
    while day < last:
        start, end = _midnight(day), _midnight(day + timedelta(days=1))
        starts = [start + i * SLOT for i in range(int((end - start) / SLOT))]
        yesterday = [s - timedelta(days=1) for s in starts]
        day += timedelta(days=1)
        if any(s not in kwh for s in starts) or any(y not in kwh for y in yesterday):
            continue
        forecast = forecast_load(kwh, starts, start, daily_kwh=DAILY_KWH)
        if forecast.flat:
            continue
        score.ours_kwh += sum(
            abs(kw * SLOT_H - kwh[s])
            for kw, s in zip(forecast.load_kw, starts, strict=True)
        )
        score.naive_kwh += sum(
            abs(kwh[y] - kwh[s]) for y, s in zip(yesterday, starts, strict=True)
        )
        score.days += 1
    return score


def _series(path: str, column: str, per_slot_kwh: float) -> dict[datetime, float]:
    data = read_half_hourly(path, [column])
    print(f"  {data.describe()}", file=sys.stderr)
    return {start: row[0] * per_slot_kwh for start, row in data.rows.items()}


def main() -> None:
    """Print per-home figures and, last, the totals over every home."""
    homes = [
        (
            "home_a",
            "household/home_a_load_pv_2024-02_2025-02.csv",
            "load_w",
            SLOT_H / W_PER_KW,
        ),
        ("home_b", "household/home_b_load_2023-01_2024-08.csv", "load_kwh", 1.0),
    ]
    lcl = "household/lcl_2013_20_homes_kwh.csv"
    with (read_half_hourly.__globals__["DATA_DIR"] / lcl).open() as handle:
        columns = handle.readline().strip().split(",")[1:]
    homes += [(f"lcl_{c}", lcl, c, 1.0) for c in columns]
    total = Score()
    for name, path, column, factor in homes:
        score = evaluate(_series(path, column, factor))
        if not score.days:
            print(f"{name}: no day to score")
            continue
        total.add(score)
        print(
            f"{name}: days={score.days} mae_kwh_day={score.ours_kwh / score.days:.3f} "
            f"mae_naive_kwh_day={score.naive_kwh / score.days:.3f}"
        )
    print(
        f"mae_kwh_day={total.ours_kwh / total.days:.3f} "
        f"mae_naive_kwh_day={total.naive_kwh / total.days:.3f}"
    )


if __name__ == "__main__":
    main()
