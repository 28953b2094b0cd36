"""House load forecast: the profile, its fallbacks, its error, and reading the recorder."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
import threading
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import (
    history as history_module,
    statistics as statistics_module,
)
from homeassistant.components.recorder.core import Recorder
from homeassistant.components.recorder.models import (
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant, State
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.battery_optimizer.forecasts import load as load_module
from custom_components.battery_optimizer.forecasts.load import (
    async_history_kwh,
    async_house_kwh,
    forecast_error_kwh_per_day,
    forecast_load,
)
from custom_components.battery_optimizer.optimizer.horizon import UK_TZ

SLOT = timedelta(minutes=30)
# Tuesday 9 January 2024, 00:00 London (GMT).
TUESDAY = datetime(2024, 1, 9, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_db_url: str, enable_custom_integrations: None
) -> None:
    """Prepare the recorder's database before hass starts, then allow the integration."""


async def import_power_statistics(
    hass: HomeAssistant, rows: list[dict[str, Any]]
) -> None:
    """Import hourly mean statistics (W) of sensor.house_load."""
    metadata = {
        "has_mean": True,
        "has_sum": False,
        "name": "House load",
        "source": "recorder",
        "statistic_id": "sensor.house_load",
        "unit_of_measurement": "W",
    }
    # Newer Home Assistant also wants the kind of mean and the unit class.
    fields = StatisticMetaData.__annotations__
    if "mean_type" in fields:
        metadata["mean_type"] = StatisticMeanType.ARITHMETIC
    if "unit_class" in fields:
        metadata["unit_class"] = "power"
    async_import_statistics(hass, metadata, rows)  # type: ignore[arg-type]
    await async_wait_recording_done(hass)


def evening_peak(
    first: datetime, days: int, peak_kwh: float = 1.0
) -> dict[datetime, float]:
    """0.1 kWh a half-hour, and `peak_kwh` from 18:00 to 19:00 London."""
    out = {}
    for i in range(days * 48):
        start = first + i * SLOT
        local = start.astimezone(UK_TZ)
        out[start] = peak_kwh if local.hour == 18 else 0.1
    return out


def test_short_history_gives_a_flat_profile_and_says_so() -> None:
    history = evening_peak(TUESDAY - timedelta(hours=10), 1)
    starts = [TUESDAY + i * SLOT for i in range(4)]
    forecast = forecast_load(history, starts, TUESDAY, daily_kwh=12.0)
    assert forecast.flat
    assert forecast.load_kw == (0.5, 0.5, 0.5, 0.5)
    assert "flat 12 kWh a day" in forecast.status


def test_profile_repeats_the_daily_shape_in_kw() -> None:
    history = evening_peak(TUESDAY - timedelta(days=7), 7)
    now = TUESDAY + timedelta(hours=9, minutes=10)
    starts = [now] + [
        TUESDAY + timedelta(hours=9, minutes=30) + i * SLOT for i in range(30)
    ]
    forecast = forecast_load(history, starts, now, daily_kwh=10.0)
    assert not forecast.flat
    assert forecast.status == ""
    # The window is the 7 days before 09:00; the history stops at midnight.
    assert forecast.history_days == pytest.approx(6.625)
    by_start = dict(zip(starts, forecast.load_kw, strict=True))
    assert by_start[TUESDAY + timedelta(hours=18)] == pytest.approx(2.0)
    assert by_start[TUESDAY + timedelta(hours=12)] == pytest.approx(0.2)


def test_same_weekday_and_recent_days_weigh_more() -> None:
    history = evening_peak(TUESDAY - timedelta(days=7), 7, peak_kwh=0.5)
    last_tuesday = TUESDAY - timedelta(days=7) + timedelta(hours=18)
    history[last_tuesday] = 3.0
    start = TUESDAY + timedelta(hours=18)
    weighted = forecast_load(history, [start], TUESDAY, daily_kwh=1.0).load_kw[0] * 0.5
    plain_mean = (6 * 0.5 + 3.0) / 7
    assert weighted > plain_mean


def test_profile_follows_local_time_across_the_clock_change() -> None:
    # Sunday 31 March 2024 the clocks go forward; Monday's peak is 17:00 UTC.
    first = datetime(2024, 3, 24, 0, 0, tzinfo=UTC)
    history = evening_peak(first, 8)
    monday = datetime(2024, 4, 1, 0, 0, tzinfo=UTC) - timedelta(hours=1)
    starts = [monday + i * SLOT for i in range(48)]
    forecast = forecast_load(history, starts, monday, daily_kwh=5.0)
    peak = [s for s, kw in zip(starts, forecast.load_kw, strict=True) if kw > 1]
    assert peak == [
        datetime(2024, 4, 1, 17, 0, tzinfo=UTC),
        datetime(2024, 4, 1, 17, 30, tzinfo=UTC),
    ]


def test_slots_without_history_take_the_flat_value() -> None:
    history = evening_peak(TUESDAY - timedelta(days=2), 2)
    for i in range(4):  # a gap at 02:00-04:00 on both days
        for back in (1, 2):
            del history[TUESDAY - timedelta(days=back) + timedelta(hours=2) + i * SLOT]
    starts = [TUESDAY + timedelta(hours=2), TUESDAY + timedelta(hours=5)]
    forecast = forecast_load(history, starts, TUESDAY, daily_kwh=4.8)
    assert forecast.load_kw == pytest.approx((0.2, 0.2))
    assert "1 slots have no load history" in forecast.status


def test_error_is_zero_for_a_perfect_routine_and_grows_with_surprises() -> None:
    history = evening_peak(TUESDAY - timedelta(days=21), 21)
    assert forecast_error_kwh_per_day(history, TUESDAY, daily_kwh=5.0) == pytest.approx(
        0.0
    )
    surprise = TUESDAY - timedelta(days=1) + timedelta(hours=3)
    history[surprise] = 2.1
    assert forecast_error_kwh_per_day(history, TUESDAY, daily_kwh=5.0) == pytest.approx(
        2.0 / 7
    )
    assert forecast_error_kwh_per_day({}, TUESDAY, daily_kwh=5.0) is None


async def test_hourly_statistics_of_a_power_sensor(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    now = TUESDAY + timedelta(hours=8, minutes=5)
    freezer.move_to(now)
    hass.states.async_set("sensor.house_load", "450", {"unit_of_measurement": "W"})
    first = TUESDAY - timedelta(days=8)
    rows = [
        {"start": first + timedelta(hours=h), "mean": 1500.0 if h % 24 == 18 else 300.0}
        for h in range(8 * 24 + 8)
    ]
    await import_power_statistics(hass, rows)
    with patch.object(history_module, "state_changes_during_period") as state_changes:
        history = await async_history_kwh(hass, "sensor.house_load", now, 7)
    # Statistics cover every complete hour up to `now`: no state history needed.
    state_changes.assert_not_called()
    # W means become kW, and each hour's kWh splits over its two half-hours.
    assert history[TUESDAY - timedelta(hours=6)] == pytest.approx(0.75)
    assert history[TUESDAY - timedelta(hours=5, minutes=30)] == pytest.approx(0.75)
    assert history[TUESDAY + timedelta(hours=7, minutes=30)] == pytest.approx(0.15)
    assert max(history) == TUESDAY + timedelta(hours=7, minutes=30)
    assert await async_history_kwh(hass, "sensor.unknown", now, 7) == {}


async def test_state_history_of_energy_and_ev_power(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    start = TUESDAY + timedelta(hours=10)
    meter = 1000.0
    for i in range(7):  # a cumulative Wh meter read every 15 minutes, reset once
        freezer.move_to(start + i * timedelta(minutes=15))
        meter = 0.0 if i == 5 else meter + 250.0
        hass.states.async_set(
            "sensor.house_energy", str(meter), {"unit_of_measurement": "Wh"}
        )
        ev_kw = "unavailable" if i == 3 else ("7.0" if i < 2 else "0.0")
        hass.states.async_set("sensor.ev_power", ev_kw, {"unit_of_measurement": "kW"})
    await async_wait_recording_done(hass)
    now = start + timedelta(hours=2)
    freezer.move_to(now)
    house = await async_history_kwh(hass, "sensor.house_energy", now, 1)
    # 10:00-10:30 and 10:30-11:00 each used 0.5 kWh; the reset slot is unknown.
    assert house == {start: pytest.approx(0.5), start + SLOT: pytest.approx(0.5)}
    ev = await async_history_kwh(hass, "sensor.ev_power", now, 1)
    assert ev[start] == pytest.approx(3.5)
    net = await async_house_kwh(
        hass, "sensor.house_energy", now, days=1, ev_entity_id="sensor.ev_power"
    )
    # EV charging exceeds the house's half-hour: never below zero.
    assert net == {start: 0.0, start + SLOT: pytest.approx(0.5)}
    assert await async_house_kwh(hass, "sensor.house_energy", now, days=1) == house


def test_profile_skips_nan_and_handles_empty_input() -> None:
    from custom_components.battery_optimizer.forecasts.profile import profile_forecast

    history = evening_peak(TUESDAY - timedelta(days=2), 2)
    history[TUESDAY - timedelta(hours=6)] = float("nan")
    result = profile_forecast(
        history,
        [TUESDAY + timedelta(hours=18)],
        TUESDAY,
        days=7,
        decay=1.0,
        same_weekday_weight=1.0,
    )
    assert result == [pytest.approx(1.0)]
    assert profile_forecast(
        {}, [TUESDAY], TUESDAY, days=7, decay=1.0, same_weekday_weight=1.0
    ) == [None]


def test_statistics_rows_without_values_and_empty_state_history() -> None:
    from custom_components.battery_optimizer.forecasts.load import (
        _difference_energy,
        _from_statistics,
    )

    rows: list[dict[str, Any]] = [
        {"start": TUESDAY.timestamp(), "change": None},
        {"start": TUESDAY.timestamp(), "change": 2.0},
    ]
    assert _from_statistics(rows, "energy", "hour") == {
        TUESDAY: 1.0,
        TUESDAY + SLOT: 1.0,
    }
    assert _difference_energy([], 1.0) == {}
    # A first reading inside a half-hour cannot start that half-hour.
    points = [
        (TUESDAY + timedelta(minutes=10), 5.0),
        (TUESDAY + SLOT, 6.0),
        (TUESDAY + 2 * SLOT, 6.4),
    ]
    assert _difference_energy(points, 1.0) == {TUESDAY + SLOT: pytest.approx(0.4)}


async def test_power_sensor_without_recorded_history(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    # Just after a first start: the sensor has a state, the recorder nothing yet.
    now = TUESDAY + timedelta(hours=9)
    freezer.move_to(now)
    hass.states.async_set("sensor.new_load", "450", {"unit_of_measurement": "W"})
    assert await async_history_kwh(hass, "sensor.new_load", now, 7) == {}


async def test_only_the_hours_after_the_statistics_come_from_states_in_a_worker(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    # A reading before the last compiled hour ends still holds after it.
    freezer.move_to(TUESDAY + timedelta(hours=6, minutes=40))
    hass.states.async_set("sensor.house_load", "1000", {"unit_of_measurement": "W"})
    freezer.move_to(TUESDAY + timedelta(hours=8))
    hass.states.async_set("sensor.house_load", "2000", {"unit_of_measurement": "W"})
    await async_wait_recording_done(hass)
    first = TUESDAY - timedelta(days=8)
    # Hourly means up to the hour 06:00-07:00.
    rows = [{"start": first + timedelta(hours=h), "mean": 300.0} for h in range(199)]
    await import_power_statistics(hass, rows)
    now = TUESDAY + timedelta(hours=8, minutes=40)
    freezer.move_to(now)
    real_changes = history_module.state_changes_during_period
    real_from_states = load_module._from_states
    queried_from: list[datetime] = []
    threads: list[threading.Thread] = []

    def changes_spy(
        hass: HomeAssistant, start: datetime, *args: Any, **kwargs: Any
    ) -> dict[str, list[State]]:
        queried_from.append(start)
        return real_changes(hass, start, *args, **kwargs)

    def from_states_spy(
        states: Sequence[State], kind: str, unit: str, end: datetime
    ) -> dict[datetime, float]:
        threads.append(threading.current_thread())
        return real_from_states(states, kind, unit, end)

    with (
        patch.object(history_module, "state_changes_during_period", changes_spy),
        patch.object(load_module, "_from_states", from_states_spy),
    ):
        history = await async_history_kwh(hass, "sensor.house_load", now, 7)
    assert queried_from == [TUESDAY + timedelta(hours=7)]
    assert len(threads) == 1
    assert threads[0] is not threading.main_thread()
    assert history[TUESDAY + timedelta(hours=6, minutes=30)] == pytest.approx(0.15)
    assert history[TUESDAY + timedelta(hours=7)] == pytest.approx(0.5)
    assert history[TUESDAY + timedelta(hours=7, minutes=30)] == pytest.approx(0.5)
    assert history[TUESDAY + timedelta(hours=8)] == pytest.approx(1.0)
    assert max(history) == TUESDAY + timedelta(hours=8)


async def test_five_minute_statistics_keep_each_half_hour_apart(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    five = timedelta(minutes=5)
    seven = TUESDAY + timedelta(hours=7)
    # A forced charge from 07:30: 1 kW, then 3 kW; the meter likewise.
    power_rows = [
        {"start": (seven + i * five).timestamp(), "mean": 1.0 if i < 6 else 3.0}
        for i in range(12)
    ]
    # 06:30-07:00 lacks its 06:50 row, so that half-hour is unknown.
    power_rows[:0] = [
        {"start": (seven - SLOT + i * five).timestamp(), "mean": 9.0}
        for i in range(6)
        if i != 4
    ]
    energy_rows = [
        {"start": (seven + i * five).timestamp(), "change": 0.1 if i < 6 else 0.4}
        for i in range(12)
    ]
    freezer.move_to(seven + timedelta(minutes=50))
    hass.states.async_set("sensor.battery_power", "2.0", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.grid_import", "10", {"unit_of_measurement": "kWh"})
    await async_wait_recording_done(hass)
    now = TUESDAY + timedelta(hours=9, minutes=10)
    freezer.move_to(now)
    periods: list[str] = []

    def fake_statistics(
        _hass: HomeAssistant,
        _start: datetime,
        _end: datetime,
        ids: set[str],
        period: str,
        *_args: Any,
    ) -> dict[str, list[dict[str, Any]]]:
        periods.append(period)
        (entity_id,) = ids
        rows = {"sensor.battery_power": power_rows, "sensor.grid_import": energy_rows}
        return {entity_id: rows[entity_id]}

    with patch.object(statistics_module, "statistics_during_period", fake_statistics):
        power = await async_history_kwh(
            hass, "sensor.battery_power", now, 1, period="5minute"
        )
        energy = await async_history_kwh(
            hass, "sensor.grid_import", now, 1, period="5minute"
        )
    assert periods == ["5minute", "5minute"]
    # Statistics up to 08:00, then the 2 kW state in force from 07:50 onwards.
    assert power == {
        seven: pytest.approx(0.5),
        seven + SLOT: pytest.approx(1.5),
        seven + 2 * SLOT: pytest.approx(1.0),
        seven + 3 * SLOT: pytest.approx(1.0),
    }
    # A meter not read since 07:50 has no reading to close a later half-hour.
    assert energy == {seven: pytest.approx(0.6), seven + SLOT: pytest.approx(2.4)}
