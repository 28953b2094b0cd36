"""Price and household files of ../shared/data aligned on one continuous half-hourly timeline.

The timeline follows the price file. Household values come from the same
half-hour of the year in whichever year the household file covers it, so a
home measured in 2024 can be run against 2022 prices. Missing values are filled
from the same slot a day earlier (or later) and counted.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
import math
from pathlib import Path

from benchmarks._data import SLOT, HalfHourly, read_half_hourly
from custom_components.battery_optimizer.optimizer.simulate import Timeline

SLOTS_PER_DAY = 48
W_PER_KW = 1000.0
# kWh in a half hour over half an hour is twice that in kW.
KW_PER_KWH_PER_SLOT = 2.0
MEAN_OF_HOMES = "mean"


@dataclass(frozen=True, slots=True)
class Aligned:
    """The timeline and a note of what was read, aligned and filled."""

    timeline: Timeline
    notes: tuple[str, ...]


def _header(path: Path) -> list[str]:
    with path.open(newline="") as handle:
        return next(csv.reader(handle))


def _column(path: Path, name: str) -> HalfHourly:
    return read_half_hourly(str(path.resolve()), (name,))


def _year_start(moment: datetime) -> datetime:
    return datetime(moment.year, 1, 1, tzinfo=UTC)


def _same_time_of_year(data: HalfHourly, moment: datetime) -> datetime | None:
    """The slot at the same half-hour of the year in a year the data covers."""
    offset = moment - _year_start(moment)
    for year in range(data.first.year, data.last.year + 1):
        candidate = datetime(year, 1, 1, tzinfo=UTC) + offset
        if candidate in data.rows:
            return candidate
    return None


def _fill(values: list[float]) -> int:
    """Fill NaNs from the same slot on the nearest day that has it; return how many."""
    missing = [t for t, v in enumerate(values) if math.isnan(v)]
    for t in missing:
        for lag in range(1, len(values) // SLOTS_PER_DAY + 1):
            for source in (t - lag * SLOTS_PER_DAY, t + lag * SLOTS_PER_DAY):
                if 0 <= source < len(values) and not math.isnan(values[source]):
                    values[t] = values[source]
                    break
            else:
                continue
            break
        else:
            values[t] = 0.0
    return len(missing)


def _series(
    data: HalfHourly, starts: list[datetime], scale: float, same_year: bool
) -> list[float]:
    out: list[float] = []
    for moment in starts:
        key = moment if same_year else _same_time_of_year(data, moment)
        row = data.rows.get(key) if key is not None else None
        out.append(row[0] * scale if row is not None else math.nan)
    return out


def _household_columns(path: Path, home: str) -> tuple[str, float, str | None]:
    """Load column, its scale to kW, and the PV column if any."""
    columns = _header(path)[1:]
    if "load_w" in columns:
        return "load_w", 1 / W_PER_KW, "pv_w" if "pv_w" in columns else None
    if "load_kwh" in columns:
        return "load_kwh", KW_PER_KWH_PER_SLOT, None
    if home != MEAN_OF_HOMES:
        if home not in columns:
            msg = f"{path.name} has no column {home!r}; choose one of {columns}"
            raise ValueError(msg)
        return home, KW_PER_KWH_PER_SLOT, None
    return MEAN_OF_HOMES, KW_PER_KWH_PER_SLOT, None


def _mean_of_homes(path: Path, starts: list[datetime], same_year: bool) -> list[float]:
    """Mean load of every home column, over the homes with a value in each slot."""
    columns = _header(path)[1:]
    per_home = [
        _series(_column(path, name), starts, KW_PER_KWH_PER_SLOT, same_year)
        for name in columns
    ]
    out: list[float] = []
    for values in zip(*per_home, strict=True):
        known = [v for v in values if not math.isnan(v)]
        out.append(sum(known) / len(known) if known else math.nan)
    return out


def align(
    prices_path: Path, household_path: Path, *, days: int | None, home: str
) -> Aligned:
    """Read both files and put them on the price file's half-hourly timeline."""
    notes: list[str] = []
    import_data = _column(prices_path, "import_p_per_kwh")
    notes.append(import_data.describe())
    first = import_data.first
    n = int((import_data.last - first) / SLOT) + 1
    if days is not None:
        n = min(n, days * SLOTS_PER_DAY)
    starts = [first + t * SLOT for t in range(n)]
    import_p = _series(import_data, starts, 1.0, same_year=True)
    if "export_p_per_kwh" in _header(prices_path):
        export_p = _series(
            _column(prices_path, "export_p_per_kwh"), starts, 1.0, same_year=True
        )
    else:
        export_p = [0.0] * n
        notes.append("no export prices: export earns 0p/kWh")

    load_name, load_scale, pv_name = _household_columns(household_path, home)
    probe = _column(
        household_path,
        load_name if load_name != MEAN_OF_HOMES else _header(household_path)[1],
    )
    same_year = probe.first <= starts[0] and starts[-1] <= probe.last
    if not same_year:
        notes.append(
            f"household {probe.first:%Y-%m-%d} to {probe.last:%Y-%m-%d} aligned to the "
            "prices by half-hour of the year"
        )
    if load_name == MEAN_OF_HOMES:
        load_kw = _mean_of_homes(household_path, starts, same_year)
        notes.append(f"load: mean of the {len(_header(household_path)) - 1} homes")
    else:
        load_data = _column(household_path, load_name)
        notes.append(load_data.describe())
        load_kw = _series(load_data, starts, load_scale, same_year)
        notes.append(f"load: column {load_name}")
    pv_kw = [0.0] * n
    pv_forecast: list[float] | None = None
    if pv_name is not None:
        pv_kw = _series(
            _column(household_path, pv_name), starts, 1 / W_PER_KW, same_year
        )
        if "pv_forecast_w" in _header(household_path):
            pv_forecast = _series(
                _column(household_path, "pv_forecast_w"),
                starts,
                1 / W_PER_KW,
                same_year,
            )
            present = sum(not math.isnan(v) for v in pv_forecast)
            notes.append(f"PV forecast present in {present} of {n} slots")
    else:
        notes.append("no PV")
    for name, values in (
        ("import price", import_p),
        ("export price", export_p),
        ("load", load_kw),
        ("PV", pv_kw),
    ):
        filled = _fill(values)
        if filled:
            notes.append(f"{name}: {filled} missing slots filled from a nearby day")
    load_kw = [max(0.0, v) for v in load_kw]
    pv_kw = [max(0.0, v) for v in pv_kw]
    timeline = Timeline(
        start=first,
        import_p_per_kwh=import_p,
        export_p_per_kwh=export_p,
        load_kw=load_kw,
        pv_kw=pv_kw,
        pv_forecast_kw=pv_forecast,
    )
    return Aligned(timeline, tuple(notes))
