"""House load forecast from the recorder: a half-hour profile of recent days.

History comes from the long-term (hourly) or short-term (5-minute) statistics
of a load power (mean) or energy (change) sensor; the half-hours after the last
compiled one are filled from the state history. An EV charger's power is taken off, since charging follows
the car and not the household's routine. Too little history gives a flat profile from
the user's daily kWh, and the status says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from homeassistant.components.recorder import history, statistics
from homeassistant.const import UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers.recorder import get_instance
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter

from ..optimizer.forecast import LOAD_DECAY, LOAD_SAME_WEEKDAY_WEIGHT, SLOTS_PER_DAY
from ..optimizer.horizon import UK_TZ
from .profile import SLOT, profile_forecast, slot_floor

DEFAULT_DAYS = 7
ERROR_DAYS = 7
# Less than a day of half-hours cannot show a daily shape.
MIN_HISTORY_SLOTS = SLOTS_PER_DAY
HOURS_PER_DAY = 24
SLOT_H = 0.5
HOUR = timedelta(hours=1)
type StatisticsPeriod = Literal["5minute", "hour"]
STATISTICS_SPAN: dict[StatisticsPeriod, timedelta] = {
    "5minute": timedelta(minutes=5),
    "hour": HOUR,
}
POWER_UNITS = frozenset(PowerConverter.VALID_UNITS)
ENERGY_UNITS = frozenset(EnergyConverter.VALID_UNITS)


@dataclass(frozen=True, slots=True)
class LoadForecast:
    """House load per plan slot, and how it was made."""

    load_kw: tuple[float, ...]
    flat: bool
    history_days: float
    status: str


def forecast_load(
    history_kwh: Mapping[datetime, float],
    starts: Sequence[datetime],
    now: datetime,
    *,
    daily_kwh: float,
    days: int = DEFAULT_DAYS,
) -> LoadForecast:
    """Load (kW) for each slot start from kWh per past half-hour; flat when history is short."""
    known_before = slot_floor(now)
    window_start = known_before - timedelta(days=days)
    window = {
        start: kwh
        for start, kwh in history_kwh.items()
        if window_start <= start < known_before
    }
    history_days = len(window) / SLOTS_PER_DAY
    flat_kw = daily_kwh / HOURS_PER_DAY
    if len(window) < MIN_HISTORY_SLOTS:
        return LoadForecast(
            (flat_kw,) * len(starts),
            True,
            history_days,
            f"Only {history_days:.1f} days of load history: the plan assumes a flat "
            f"{daily_kwh:g} kWh a day.",
        )
    profile = profile_forecast(
        window,
        [slot_floor(start) for start in starts],
        known_before,
        days=days,
        decay=LOAD_DECAY,
        same_weekday_weight=LOAD_SAME_WEEKDAY_WEIGHT,
    )
    load_kw = tuple(
        flat_kw if kwh is None else max(kwh, 0.0) / SLOT_H for kwh in profile
    )
    gaps = sum(kwh is None for kwh in profile)
    status = (
        f"{gaps} slots have no load history: the plan assumes {flat_kw:.2f} kW there."
        if gaps
        else ""
    )
    return LoadForecast(load_kw, False, history_days, status)


def forecast_error_kwh_per_day(
    history_kwh: Mapping[datetime, float],
    now: datetime,
    *,
    daily_kwh: float,
    days: int = DEFAULT_DAYS,
    error_days: int = ERROR_DAYS,
) -> float | None:
    """Mean over the last complete local days of the day's summed |forecast - actual| (kWh)."""
    today = now.astimezone(UK_TZ).date()
    errors: list[float] = []
    for back in range(error_days, 0, -1):
        day = today - timedelta(days=back)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UK_TZ).astimezone(UTC)
        next_day = day + timedelta(days=1)
        end = datetime(
            next_day.year, next_day.month, next_day.day, tzinfo=UK_TZ
        ).astimezone(UTC)
        starts = [
            start
            for offset in range(int((end - midnight) / SLOT))
            if (start := midnight + offset * SLOT) in history_kwh
        ]
        if not starts:
            continue
        forecast = forecast_load(
            history_kwh, starts, midnight, daily_kwh=daily_kwh, days=days
        )
        errors.append(
            sum(
                abs(kw * SLOT_H - history_kwh[start])
                for kw, start in zip(forecast.load_kw, starts, strict=True)
            )
        )
    return sum(errors) / len(errors) if errors else None


def _unit_kind(unit: str | None) -> str | None:
    if unit in POWER_UNITS:
        return "power"
    if unit in ENERGY_UNITS:
        return "energy"
    return None


def _from_statistics(
    rows: Sequence[Mapping[str, Any]], kind: str, period: StatisticsPeriod
) -> dict[datetime, float]:
    """Energy (kWh) per half-hour fully covered by statistics rows; hours split evenly."""
    span = STATISTICS_SPAN[period]
    # An hour's row fills two half-hours evenly; 5-minute rows add up in one.
    parts = max(span // SLOT, 1)
    part_span = span / parts
    energy: dict[datetime, float] = {}
    covered: dict[datetime, timedelta] = {}
    for row in rows:
        value = row.get("mean" if kind == "power" else "change")
        if value is None:
            continue
        start = datetime.fromtimestamp(row["start"], UTC)
        # A mean kW times the row's hours is the row's kWh.
        row_kwh = float(value) * (span / HOUR if kind == "power" else 1.0)
        for part in range(parts):
            slot = slot_floor(start + part * part_span)
            energy[slot] = energy.get(slot, 0.0) + row_kwh / parts
            covered[slot] = covered.get(slot, timedelta()) + part_span
    # A half-hour missing a 5-minute row would look like a quiet one.
    return {slot: kwh for slot, kwh in energy.items() if covered[slot] >= SLOT}


def _numeric(state: State) -> float | None:
    try:
        return float(state.state)
    except ValueError:
        return None


def _from_states(
    states: Sequence[State], kind: str, unit: str, end: datetime
) -> dict[datetime, float]:
    """Energy (kWh) per complete half-hour from state history, up to `end`."""
    points = [
        (state.last_updated, value)
        for state in states
        if (value := _numeric(state)) is not None
    ]
    if kind == "power":
        factor = PowerConverter.convert(1.0, unit, UnitOfPower.KILO_WATT)
        return _integrate_power(points, factor, end)
    factor = EnergyConverter.convert(1.0, unit, UnitOfEnergy.KILO_WATT_HOUR)
    return _difference_energy(points, factor)


def _integrate_power(
    points: Sequence[tuple[datetime, float]], kw_per_unit: float, end: datetime
) -> dict[datetime, float]:
    """Energy (kWh) of each half-hour fully covered by the step function of the readings."""
    if not points:
        # A sensor that has never reported yet (e.g. just after a restart).
        return {}
    energy: dict[datetime, float] = {}
    seconds: dict[datetime, float] = {}
    for (at, value), (next_at, _) in zip(
        points, [*points[1:], (end, 0.0)], strict=True
    ):
        cursor = at
        while cursor < next_at:
            slot = slot_floor(cursor)
            stop = min(next_at, slot + SLOT)
            span = (stop - cursor).total_seconds()
            energy[slot] = energy.get(slot, 0.0) + value * kw_per_unit * span / 3600
            seconds[slot] = seconds.get(slot, 0.0) + span
            cursor = stop
    full = SLOT.total_seconds()
    return {slot: kwh for slot, kwh in energy.items() if seconds[slot] >= full}


def _difference_energy(
    points: Sequence[tuple[datetime, float]], kwh_per_unit: float
) -> dict[datetime, float]:
    """Energy (kWh) of each half-hour from a cumulative meter read at both of its ends."""
    at_boundary: dict[datetime, float] = {}
    index = 0
    if not points:
        return {}
    boundary = slot_floor(points[0][0])
    if boundary < points[0][0]:
        boundary += SLOT
    last = points[-1][0]
    while boundary <= last:
        while index + 1 < len(points) and points[index + 1][0] <= boundary:
            index += 1
        at_boundary[boundary] = points[index][1]
        boundary += SLOT
    out: dict[datetime, float] = {}
    for boundary, reading in at_boundary.items():
        previous = at_boundary.get(boundary - SLOT)
        # A meter reset makes the difference negative; that half-hour is unknown.
        if previous is not None and reading >= previous:
            out[boundary - SLOT] = (reading - previous) * kwh_per_unit
    return out


async def async_history_kwh(
    hass: HomeAssistant,
    entity_id: str,
    now: datetime,
    days: int,
    *,
    period: StatisticsPeriod = "hour",
) -> dict[datetime, float]:
    """Energy (kWh) per half-hour of a power or energy sensor over the last `days` days."""
    end = slot_floor(now)
    start = end - timedelta(days=days + 1)
    state = hass.states.get(entity_id)
    unit = state.attributes.get("unit_of_measurement") if state else None
    kind = _unit_kind(unit)
    if kind is None or unit is None:
        return {}
    recorder = get_instance(hass)
    rows = await recorder.async_add_executor_job(
        statistics.statistics_during_period,
        hass,
        start,
        end,
        {entity_id},
        period,
        {kind: "kW" if kind == "power" else "kWh"},
        {"mean"} if kind == "power" else {"change"},
    )
    out = _from_statistics(rows.get(entity_id, []), kind, period)
    # Only the half-hours after the last compiled one (the current hour, or all
    # of them for a sensor without a state class) are read from the state history:
    # days of a fast power sensor would be a great many states.
    tail_start = max(out) + SLOT if out else start
    if tail_start < end:
        from_states = await recorder.async_add_executor_job(
            _states_kwh, hass, entity_id, kind, unit, tail_start, end
        )
        out = {**from_states, **out}
    return {slot: kwh for slot, kwh in out.items() if start <= slot < end}


def _states_kwh(
    hass: HomeAssistant,
    entity_id: str,
    kind: str,
    unit: str,
    start: datetime,
    end: datetime,
) -> dict[datetime, float]:
    """Energy (kWh) per half-hour from the state history between `start` and `end`."""
    # Runs in the recorder's executor: both the query and the walk over the
    # states are too heavy for the event loop.
    changes = history.state_changes_during_period(
        hass,
        start,
        end,
        entity_id,
        no_attributes=True,
        # The state in force at `start` begins the step function there.
        include_start_time_state=True,
    )
    return _from_states(changes.get(entity_id, []), kind, unit, end)


async def async_house_kwh(
    hass: HomeAssistant,
    load_entity_id: str,
    now: datetime,
    *,
    days: int = DEFAULT_DAYS,
    ev_entity_id: str | None = None,
) -> dict[datetime, float]:
    """House load history (kWh per half-hour) with the EV charger's energy taken off."""
    load = await async_history_kwh(hass, load_entity_id, now, days)
    if ev_entity_id is None or not load:
        return load
    ev = await async_history_kwh(hass, ev_entity_id, now, days)
    return {slot: max(kwh - ev.get(slot, 0.0), 0.0) for slot, kwh in load.items()}
