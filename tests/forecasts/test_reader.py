"""The plan's PV and load forecasts as read from Home Assistant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.battery_optimizer.const import (
    CONF_DAILY_LOAD_KWH,
    CONF_EV_POWER_ENTITY,
    CONF_LOAD_POWER_ENTITY,
    CONF_PV_ESTIMATE,
    CONF_PV_SOURCE,
    DOMAIN,
)
from custom_components.battery_optimizer.forecasts.reader import ForecastReader
from custom_components.battery_optimizer.optimizer.horizon import slot_grid

FIXTURES = Path(__file__).parents[1] / "fixtures" / "forecasts"
# Solcast's fixture day is 10 June 2024 (BST): noon local is 11:00 UTC.
NOW = datetime(2024, 6, 10, 10, 45, tzinfo=UTC)
LOAD_ENTITY = "sensor.house_load"


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def _entry(
    hass: HomeAssistant, options: dict[str, Any], data: dict[str, Any] | None = None
) -> MockConfigEntry:
    entry = MockConfigEntry(domain=DOMAIN, data=data or {}, options=options)
    entry.add_to_hass(hass)
    return entry


def _register(hass: HomeAssistant, platform: str, object_id: str) -> str:
    registry = er.async_get(hass)
    return registry.async_get_or_create(
        "sensor", platform, object_id, suggested_object_id=object_id
    ).entity_id


async def test_without_sources_pv_is_zero_and_the_load_flat(
    hass: HomeAssistant,
) -> None:
    reader = ForecastReader(hass, _entry(hass, {CONF_DAILY_LOAD_KWH: 12.0}))
    grid = slot_grid(NOW, timedelta(hours=6))

    forecasts = await reader.async_forecasts(grid, NOW)

    assert forecasts.pv_kw == (0.0,) * len(grid)
    assert forecasts.load_kw == pytest.approx((0.5,) * len(grid))
    # The plan says it assumed a flat load.
    assert any("flat 12 kWh a day" in note for note in forecasts.notes)
    assert forecasts.load_error_kwh_per_day is None


@pytest.mark.parametrize(
    ("estimate", "key"), [("p10", "pv_estimate10"), ("p90", "pv_estimate90")]
)
async def test_solcast_sensors_are_found_and_read(
    hass: HomeAssistant, estimate: str, key: str
) -> None:
    today = _fixture("solcast_forecast_today.json")
    entity_id = _register(hass, "solcast_solar", "solcast_forecast_today")
    hass.states.async_set(entity_id, today["state"], today["attributes"])
    # A Solcast entity without the forecast attribute (e.g. API usage) is ignored.
    other = _register(hass, "solcast_solar", "solcast_api_used")
    hass.states.async_set(other, "3")
    reader = ForecastReader(
        hass, _entry(hass, {CONF_PV_SOURCE: "solcast", CONF_PV_ESTIMATE: estimate})
    )
    grid = slot_grid(NOW, timedelta(hours=2))

    forecasts = await reader.async_forecasts(grid, NOW)

    rows = {
        datetime.fromisoformat(row["period_start"]).astimezone(UTC): row[key]
        for row in today["attributes"]["detailedForecast"]
    }
    # Whole slots carry Solcast's half-hour figure for the chosen estimate.
    assert forecasts.pv_kw[1] == pytest.approx(rows[grid[1][0]])
    assert forecasts.pv_kw[2] == pytest.approx(rows[grid[2][0]])
    assert max(forecasts.pv_kw) > 0


async def test_open_meteo_sensors_are_found(hass: HomeAssistant) -> None:
    today = _fixture("open_meteo_energy_production_today.json")
    entity_id = _register(hass, "open_meteo_solar_forecast", "energy_production_today")
    hass.states.async_set(entity_id, today["state"], today["attributes"])
    reader = ForecastReader(hass, _entry(hass, {CONF_PV_SOURCE: "open_meteo"}))
    first_key = next(iter(today["attributes"]["wh_period"]))
    start = datetime.fromisoformat(first_key).astimezone(UTC) + timedelta(hours=10)
    grid = slot_grid(start, timedelta(hours=4))

    forecasts = await reader.async_forecasts(grid, start)

    assert len(forecasts.pv_kw) == len(grid)
    assert max(forecasts.pv_kw) > 0


async def test_forecast_solar_without_a_loaded_entry_says_so(
    hass: HomeAssistant,
) -> None:
    reader = ForecastReader(hass, _entry(hass, {CONF_PV_SOURCE: "forecast_solar"}))
    grid = slot_grid(NOW, timedelta(hours=3))

    forecasts = await reader.async_forecasts(grid, NOW)

    assert forecasts.pv_kw == (0.0,) * len(grid)
    assert any("PV" in note or "solar" in note.lower() for note in forecasts.notes)


async def test_load_history_is_read_every_30_minutes(hass: HomeAssistant) -> None:
    hass.config.components.add("recorder")
    entry = _entry(
        hass,
        {CONF_EV_POWER_ENTITY: "sensor.ev_charger", CONF_DAILY_LOAD_KWH: 9.6},
        {CONF_LOAD_POWER_ENTITY: LOAD_ENTITY},
    )
    reader = ForecastReader(hass, entry)
    # Ten days of a house using 0.2 kWh every half-hour, 1 kWh at 18:00 UTC.
    history = {
        NOW.replace(minute=0) - timedelta(minutes=30 * k): (
            1.0 if (NOW - timedelta(minutes=30 * k)).hour == 18 else 0.2
        )
        for k in range(1, 48 * 10)
    }
    reading = AsyncMock(return_value=history)
    grid = slot_grid(NOW, timedelta(hours=12))
    with patch(
        "custom_components.battery_optimizer.forecasts.reader.async_house_kwh", reading
    ):
        forecasts = await reader.async_forecasts(grid, NOW)
        await reader.async_forecasts(grid, NOW + timedelta(minutes=5))
        assert reading.await_count == 1
        await reader.async_forecasts(grid, NOW + timedelta(minutes=31))
        assert reading.await_count == 2

    args, kwargs = reading.await_args
    assert args[1] == LOAD_ENTITY
    assert kwargs["ev_entity_id"] == "sensor.ev_charger"
    evening = next(t for t, (start, _) in enumerate(grid) if start.hour == 18)
    # 1 kWh per half-hour is 2 kW; the rest of the day 0.4 kW.
    assert forecasts.load_kw[evening] == pytest.approx(2.0)
    assert forecasts.load_kw[evening - 2] == pytest.approx(0.4)
    assert forecasts.load_error_kwh_per_day is not None


async def test_load_forecast_needs_the_recorder(hass: HomeAssistant) -> None:
    entry = _entry(hass, {}, {CONF_LOAD_POWER_ENTITY: LOAD_ENTITY})
    reader = ForecastReader(hass, entry)
    reading = AsyncMock()
    with patch(
        "custom_components.battery_optimizer.forecasts.reader.async_house_kwh", reading
    ):
        forecasts = await reader.async_forecasts(
            slot_grid(NOW, timedelta(hours=1)), NOW
        )
    reading.assert_not_awaited()
    assert forecasts.notes


async def test_a_recorder_fault_plans_with_the_flat_load(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    hass.config.components.add("recorder")
    entry = _entry(
        hass, {CONF_DAILY_LOAD_KWH: 12.0}, {CONF_LOAD_POWER_ENTITY: LOAD_ENTITY}
    )
    reader = ForecastReader(hass, entry)
    failing = AsyncMock(side_effect=RuntimeError("database is locked"))
    with patch(
        "custom_components.battery_optimizer.forecasts.reader.async_house_kwh", failing
    ):
        forecasts = await reader.async_forecasts(
            slot_grid(NOW, timedelta(hours=1)), NOW
        )
    assert forecasts.load_kw == pytest.approx((0.5,) * len(forecasts.load_kw))
    assert "Could not read the load history" in caplog.text

    # The next reads of a lasting fault say nothing more at warning level.
    later = NOW
    with patch(
        "custom_components.battery_optimizer.forecasts.reader.async_house_kwh", failing
    ):
        for _ in range(3):
            later += timedelta(minutes=31)
            await reader.async_forecasts(slot_grid(later, timedelta(hours=1)), later)
    assert failing.await_count == 4
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1


async def test_forecast_sensors_are_looked_up_every_half_hour(
    hass: HomeAssistant,
) -> None:
    today = _fixture("solcast_forecast_today.json")
    reader = ForecastReader(hass, _entry(hass, {CONF_PV_SOURCE: "solcast"}))
    grid = slot_grid(NOW, timedelta(hours=2))
    first = _register(hass, "solcast_solar", "solcast_forecast_today")
    hass.states.async_set(first, today["state"], today["attributes"])
    await reader.async_forecasts(grid, NOW)
    with patch(
        "custom_components.battery_optimizer.forecasts.reader._platform_entities"
    ) as scan:
        await reader.async_forecasts(grid, NOW + timedelta(minutes=5))
        scan.assert_not_called()
        scan.return_value = [first]
        await reader.async_forecasts(grid, NOW + timedelta(minutes=31))
        scan.assert_called_once()
