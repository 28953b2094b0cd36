"""PV forecast readers against the attribute shapes of Solcast, Forecast.Solar and Open-Meteo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.battery_optimizer.forecasts.solar import (
    PvEstimate,
    PvInterval,
    PvSource,
    async_read_forecast_solar,
    build_forecast,
    forecast_solar_intervals,
    open_meteo_intervals,
    read_open_meteo,
    read_solcast,
    resample_kw,
    solcast_intervals,
)
from custom_components.battery_optimizer.optimizer.horizon import slot_grid

FIXTURES = Path(__file__).parents[1] / "fixtures" / "forecasts"
# 10 June 2024, BST: local midnight is 23:00 UTC the day before.
DAY_START = datetime(2024, 6, 9, 23, 0, tzinfo=UTC)
NOON_LOCAL = datetime(2024, 6, 10, 11, 0, tzinfo=UTC)


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return loaded


def whole_day() -> list[tuple[datetime, float]]:
    return slot_grid(DAY_START, timedelta(days=1))


def test_solcast_half_hours_land_on_utc_slots() -> None:
    attributes = fixture("solcast_forecast_today.json")["attributes"]
    rows = attributes["detailedForecast"]
    pv_kw, covered = resample_kw(solcast_intervals(attributes), whole_day())
    assert all(covered)
    # Row i (local 00:00 + i half-hours, +01:00) is UTC slot i of the day.
    assert pv_kw == pytest.approx([row["pv_estimate"] for row in rows])
    assert sum(pv_kw) * 0.5 == pytest.approx(attributes["estimate"])


@pytest.mark.parametrize(
    ("estimate", "key"),
    [
        (PvEstimate.P10, "pv_estimate10"),
        (PvEstimate.P50, "pv_estimate"),
        (PvEstimate.P90, "pv_estimate90"),
    ],
)
def test_solcast_estimate_choice(estimate: PvEstimate, key: str) -> None:
    attributes = fixture("solcast_forecast_today.json")["attributes"]
    intervals = solcast_intervals(attributes, estimate)
    assert [i.kw for i in intervals] == [
        row[key] for row in attributes["detailedForecast"]
    ]


def test_solcast_datetime_objects_hourly_fallback_and_bad_rows() -> None:
    start = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
    attributes = {
        "detailedHourly": [
            {"period_start": start, "pv_estimate": 2.0},  # no p90: median used
            {"period_start": "not a time", "pv_estimate": 1.0},
            {"period_start": start + timedelta(hours=1), "pv_estimate": "x"},
            "junk",
        ]
    }
    intervals = solcast_intervals(attributes, PvEstimate.P90)
    assert intervals == [PvInterval(start, start + timedelta(hours=1), 2.0)]
    # An hourly value spreads evenly over both half-hours.
    pv_kw, _ = resample_kw(
        intervals, [(start, 0.5), (start + timedelta(minutes=30), 0.5)]
    )
    assert pv_kw == [2.0, 2.0]
    assert solcast_intervals({}) == []
    assert (
        solcast_intervals(
            {"detailedForecast": [{"period_start": "2024-06-10T12:00:00"}]}
        )
        == []
    )


def test_partial_first_slot_gets_mean_power_of_its_part() -> None:
    start = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
    intervals = [
        PvInterval(start, start + timedelta(minutes=30), 1.0),
        PvInterval(start + timedelta(minutes=30), start + timedelta(hours=1), 3.0),
    ]
    grid = slot_grid(start + timedelta(minutes=20), timedelta(minutes=40))
    assert grid[0][1] == pytest.approx(10 / 60)
    pv_kw, covered = resample_kw(intervals, grid)
    assert pv_kw == pytest.approx([1.0, 3.0])
    assert covered == [True, True]


def test_open_meteo_prefers_hourly_energy_and_spreads_it() -> None:
    attributes = fixture("open_meteo_energy_production_today.json")["attributes"]
    intervals = open_meteo_intervals(attributes)
    assert len(intervals) == 24  # wh_period, one per hour
    pv_kw, covered = resample_kw(intervals, whole_day())
    assert all(covered)
    wh = list(attributes["wh_period"].values())
    # Wh over an hour is the mean W; both half-hours of the hour get it, in kW.
    assert pv_kw[24] == pv_kw[25] == pytest.approx(wh[12] / 1000)
    assert sum(pv_kw) * 0.5 == pytest.approx(sum(wh) / 1000)


def test_open_meteo_watts_and_quarter_hour_energy() -> None:
    start = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
    quarters = [start + timedelta(minutes=15 * k) for k in range(2)]
    watts = {t.isoformat(): w for t, w in zip(quarters, (1000, 3000), strict=True)}
    pv_kw, covered = resample_kw(open_meteo_intervals({"watts": watts}), [(start, 0.5)])
    assert pv_kw == pytest.approx([2.0])
    assert covered == [True]
    wh_15m = {t.isoformat(): wh for t, wh in zip(quarters, (250, 750), strict=True)}
    attributes = {"wh_period_15m": wh_15m, "wh_period": {start.isoformat(): 99999}}
    pv_kw, _ = resample_kw(open_meteo_intervals(attributes), [(start, 0.5)])
    # 1 kWh over half an hour is 2 kW; the newer 15-minute energy wins.
    assert pv_kw == pytest.approx([2.0])
    assert open_meteo_intervals({"watts": "nope"}) == []


def test_forecast_solar_periods_end_at_their_key() -> None:
    wh_hours = fixture("forecast_solar_wh_hours.json")["wh_hours"]
    intervals = forecast_solar_intervals(wh_hours)
    # The 12:00 (+01:00) entry covers 11:00-12:00 local, 10:00-11:00 UTC.
    noon = next(
        i for i in intervals if i.end == datetime(2024, 6, 10, 11, 0, tzinfo=UTC)
    )
    assert noon.start == datetime(2024, 6, 10, 10, 0, tzinfo=UTC)
    assert noon.kw == pytest.approx(wh_hours["2024-06-10T12:00:00+01:00"] / 1000)
    # Sunset at 21:33 local closes a 33-minute period, not an hour.
    last = intervals[-1]
    assert last.end - last.start == timedelta(minutes=33)
    pv_kw, _ = resample_kw(intervals, whole_day())
    assert sum(pv_kw) * 0.5 == pytest.approx(sum(wh_hours.values()) / 1000)
    assert forecast_solar_intervals({"bad": 1, "2024-06-10T12:00:00+00:00": None}) == []


def test_missing_and_uncovered_slots_plan_with_zero_and_say_so() -> None:
    grid = slot_grid(NOON_LOCAL, timedelta(hours=48))
    attributes = fixture("solcast_forecast_today.json")["attributes"]
    forecast = build_forecast(
        solcast_intervals(attributes), grid, PvSource.SOLCAST, NOON_LOCAL
    )
    # Today's sensor ends at local midnight, 23:00 UTC: 12 hours of 48 covered.
    assert forecast.covered.count(True) == 24
    assert all(
        kw == 0.0
        for kw, ok in zip(forecast.pv_kw, forecast.covered, strict=True)
        if not ok
    )
    assert not forecast.complete
    assert "misses 72 of 96 slots" in forecast.status
    empty = build_forecast([], grid, PvSource.OPEN_METEO, NOON_LOCAL)
    assert empty.pv_kw == (0.0,) * 96
    assert "No PV forecast from Open-Meteo" in empty.status


def test_stale_forecast_is_reported() -> None:
    grid = slot_grid(NOON_LOCAL, timedelta(hours=1))
    intervals = [PvInterval(NOON_LOCAL, NOON_LOCAL + timedelta(hours=1), 1.5)]
    fresh = build_forecast(intervals, grid, PvSource.SOLCAST, NOON_LOCAL, NOON_LOCAL)
    assert fresh.complete
    assert fresh.status == ""
    old = NOON_LOCAL - timedelta(hours=30)
    stale = build_forecast(intervals, grid, PvSource.SOLCAST, NOON_LOCAL, old)
    assert stale.pv_kw == (1.5, 1.5)
    assert "30 hours old" in stale.status


async def test_read_solcast_merges_day_sensors(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOON_LOCAL)
    today = fixture("solcast_forecast_today.json")
    tomorrow_rows = [
        {
            **row,
            "period_start": (
                datetime.fromisoformat(row["period_start"]) + timedelta(days=1)
            ).isoformat(),
        }
        for row in today["attributes"]["detailedForecast"]
    ]
    hass.states.async_set(
        "sensor.solcast_pv_forecast_forecast_today", today["state"], today["attributes"]
    )
    hass.states.async_set(
        "sensor.solcast_pv_forecast_forecast_tomorrow",
        "20",
        {"detailedForecast": tomorrow_rows},
    )
    hass.states.async_set("sensor.solcast_pv_forecast_forecast_day_3", "unavailable")
    grid = slot_grid(NOON_LOCAL, timedelta(hours=25))
    forecast = read_solcast(
        hass,
        [
            "sensor.solcast_pv_forecast_forecast_today",
            "sensor.solcast_pv_forecast_forecast_tomorrow",
            "sensor.solcast_pv_forecast_forecast_day_3",
            "sensor.missing",
        ],
        grid,
        NOON_LOCAL,
        PvEstimate.P10,
    )
    assert forecast.complete
    assert forecast.status == ""
    # Tomorrow 11:00 UTC repeats today's 11:00 UTC p10.
    assert (
        forecast.pv_kw[0]
        == forecast.pv_kw[48]
        == today["attributes"]["detailedForecast"][24]["pv_estimate10"]
    )


async def test_read_open_meteo(hass: HomeAssistant) -> None:
    today = fixture("open_meteo_energy_production_today.json")
    hass.states.async_set(
        "sensor.energy_production_today", today["state"], today["attributes"]
    )
    grid = slot_grid(NOON_LOCAL, timedelta(hours=2))
    forecast = read_open_meteo(
        hass, ["sensor.energy_production_today"], grid, NOON_LOCAL
    )
    assert forecast.complete
    assert forecast.pv_kw[0] == pytest.approx(
        today["attributes"]["wh_period"]["2024-06-10T12:00:00+01:00"] / 1000
    )


async def test_forecast_solar_from_energy_platform_sums_planes(
    hass: HomeAssistant,
) -> None:
    wh_hours = fixture("forecast_solar_wh_hours.json")["wh_hours"]
    east = MockConfigEntry(
        domain="forecast_solar", entry_id="east", state=ConfigEntryState.LOADED
    )
    west = MockConfigEntry(
        domain="forecast_solar", entry_id="west", state=ConfigEntryState.LOADED
    )
    other = MockConfigEntry(
        domain="open_meteo_solar_forecast",
        entry_id="other",
        state=ConfigEntryState.LOADED,
    )
    for entry in (east, west, other):
        entry.add_to_hass(hass)
    answers = {"east": {"wh_hours": wh_hours}, "west": None}
    platform = SimpleNamespace(
        async_get_solar_forecast=AsyncMock(
            side_effect=lambda _hass, entry_id: answers[entry_id]
        )
    )
    integration = SimpleNamespace(async_get_platform=AsyncMock(return_value=platform))
    grid = slot_grid(NOON_LOCAL, timedelta(hours=1))
    target = "custom_components.battery_optimizer.forecasts.solar.async_get_integration"
    with patch(target, AsyncMock(return_value=integration)):
        single = await async_read_forecast_solar(hass, ["east"], grid, NOON_LOCAL)
        both = await async_read_forecast_solar(
            hass, ["east", "east", "west", "other", "gone"], grid, NOON_LOCAL
        )
    assert single.pv_kw[0] == pytest.approx(
        wh_hours["2024-06-10T13:00:00+01:00"] / 1000
    )
    # The same plane listed twice adds up: entries are roof planes.
    assert both.pv_kw[0] == pytest.approx(2 * single.pv_kw[0])
    asked = [call.args[1] for call in platform.async_get_solar_forecast.await_args_list]
    # Entries of other integrations, or gone, are never asked.
    assert asked == ["east", "east", "east", "west"]
    missing = await async_read_forecast_solar(hass, [], grid, NOON_LOCAL)
    assert missing.pv_kw == (0.0, 0.0)
    assert "No PV forecast from Forecast.Solar" in missing.status
    # Nothing to unload at teardown: the integrations are not installed here.
    for entry in (east, west, other):
        entry.mock_state(hass, ConfigEntryState.NOT_LOADED)


def test_duplicate_instants_and_bad_values_are_skipped() -> None:
    wh_hours = {"2024-06-10T12:00:00+01:00": 500, "2024-06-10T11:00:00+00:00": 700}
    # Two spellings of one instant: the second closes no period.
    assert len(forecast_solar_intervals(wh_hours)) == 1
    assert (
        open_meteo_intervals(
            {"wh_period": {"2024-06-10T12:00:00+01:00": "n/a"}, "watts": {}}
        )
        == []
    )
