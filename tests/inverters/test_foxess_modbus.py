"""Tests of the foxess_modbus driver against mocked entities and services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_mock_service,
)

from custom_components.battery_optimizer.inverters.base import (
    SELF_USE,
    InverterCommand,
    InverterUnavailableError,
    InverterWriteError,
    Reason,
)
from custom_components.battery_optimizer.inverters.foxess_modbus import (
    FoxessModbusDriver,
)
from custom_components.battery_optimizer.inverters.foxess_modbus_entities import (
    FoxessModbusEntities,
)
from custom_components.battery_optimizer.optimizer.model import Mode

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2024, 7, 1, 21, 10, 30, tzinfo=UTC)  # 22:10 BST
DEVICE_ID = "0123456789abcdef"
WORK_MODE = "select.work_mode"
CHARGE_POWER = "number.force_charge_power"
DISCHARGE_POWER = "number.force_discharge_power"
CURRENT = "number.max_charge_current"
MIN_SOC = "number.min_soc_on_grid"
SOC = "sensor.battery_soc"
PERIODS = (
    "binary_sensor.time_period_1_enable_force_charge",
    "binary_sensor.time_period_2_enable_force_charge",
)
REMOTE = FoxessModbusEntities(
    work_mode=WORK_MODE,
    force_charge_power=CHARGE_POWER,
    force_discharge_power=DISCHARGE_POWER,
    max_charge_current=CURRENT,
    min_soc_on_grid=MIN_SOC,
    battery_soc=SOC,
)
PERIOD_MODEL = FoxessModbusEntities(
    work_mode=WORK_MODE,
    max_charge_current=CURRENT,
    min_soc_on_grid=MIN_SOC,
    battery_soc=SOC,
    inverter=DEVICE_ID,
    charge_period_enabled=PERIODS,
)


def _set_states(hass: HomeAssistant, mode: str = "Self Use", **numbers: float) -> None:
    values = {
        CHARGE_POWER: 1.0,
        DISCHARGE_POWER: 1.0,
        CURRENT: 50.0,
        MIN_SOC: 10.0,
        SOC: 55.0,
    }
    values.update({f"number.{key}": value for key, value in numbers.items()})
    hass.states.async_set(WORK_MODE, mode, {"options": ["Self Use", "Force Charge"]})
    bounds = {
        CHARGE_POWER: (0, 4.6),
        DISCHARGE_POWER: (0, 4.6),
        CURRENT: (0, 50),
        MIN_SOC: (10, 100),
    }
    for entity_id, value in values.items():
        low, high = bounds.get(entity_id, (None, None))
        attributes = {} if low is None else {"min": low, "max": high}
        hass.states.async_set(entity_id, str(value), attributes)


@pytest.fixture
def calls(hass: HomeAssistant) -> list[Event[Any]]:
    """Mock the services the driver calls; record every call in order."""
    async_mock_service(hass, "select", "select_option")
    async_mock_service(hass, "number", "set_value")
    async_mock_service(hass, "foxess_modbus", "update_charge_period")
    events: list[Event[Any]] = async_capture_events(hass, EVENT_CALL_SERVICE)
    return events


def _made(events: list[Event[Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (e.data["domain"], e.data["service"], dict(e.data["service_data"]))
        for e in events
    ]


def _driver(
    hass: HomeAssistant, entities: FoxessModbusEntities = REMOTE
) -> FoxessModbusDriver:
    return FoxessModbusDriver(
        hass,
        entities,
        tz=LONDON,
        reserve_soc_pct=10.0,
        max_power_kw=5.0,
        clock=lambda: NOW,
    )


async def test_force_charge_sets_power_then_mode(
    hass: HomeAssistant, calls: list[Event[Any]]
) -> None:
    _set_states(hass)
    driver = _driver(hass)
    assert driver.capabilities.remote_control
    assert not driver.capabilities.schedule_on_device
    command = InverterCommand(Mode.FORCE_CHARGE, NOW + timedelta(minutes=20), 3.0, 90.0)
    assert await driver.async_ensure(command)
    assert _made(calls) == [
        ("number", "set_value", {"entity_id": CHARGE_POWER, "value": 3.0}),
        ("select", "select_option", {"entity_id": WORK_MODE, "option": "Force Charge"}),
    ]
    # The entities now show the command: nothing more to write.
    _set_states(hass, "Force Charge", force_charge_power=3.0)
    calls.clear()
    assert not await driver.async_ensure(command)
    assert calls == []
    state = await driver.async_read_state()
    assert (state.mode, state.power_kw, state.soc_pct) == (Mode.FORCE_CHARGE, 3.0, 55.0)


async def test_force_discharge_sets_floor_and_clips_power(
    hass: HomeAssistant, calls: list[Event[Any]]
) -> None:
    _set_states(hass)
    driver = _driver(hass)
    command = InverterCommand(
        Mode.FORCE_DISCHARGE, NOW + timedelta(minutes=20), 5.0, 20.0
    )
    await driver.async_ensure(command)
    assert _made(calls) == [
        ("number", "set_value", {"entity_id": MIN_SOC, "value": 20.0}),
        ("number", "set_value", {"entity_id": DISCHARGE_POWER, "value": 4.6}),
        (
            "select",
            "select_option",
            {"entity_id": WORK_MODE, "option": "Force Discharge"},
        ),
    ]
    _set_states(
        hass, "Force Discharge", force_discharge_power=4.6, min_soc_on_grid=20.0
    )
    assert driver.matches(await driver.async_read_state(), command)
    calls.clear()
    await driver.async_release()
    assert _made(calls) == [
        ("number", "set_value", {"entity_id": MIN_SOC, "value": 10.0}),
        ("select", "select_option", {"entity_id": WORK_MODE, "option": "Self Use"}),
    ]


async def test_hold_and_feed_in_use_the_work_mode_select(
    hass: HomeAssistant, calls: list[Event[Any]]
) -> None:
    _set_states(hass)
    driver = _driver(hass)
    until = NOW + timedelta(minutes=30)
    await driver.async_apply(InverterCommand(Mode.HOLD, until))
    await driver.async_apply(InverterCommand(Mode.FEED_IN_FIRST, until))
    assert [c[2]["option"] for c in _made(calls)] == ["Back-up", "Feed-in First"]
    assert (await driver.async_read_state()).power_kw is None


async def test_charge_window_across_midnight_is_split(
    hass: HomeAssistant, calls: list[Event[Any]]
) -> None:
    _set_states(hass)
    for entity_id in PERIODS:
        hass.states.async_set(entity_id, "off")
    driver = _driver(hass, PERIOD_MODEL)
    assert driver.capabilities.charge_periods
    assert driver.capabilities.schedule_on_device
    until = datetime(2024, 7, 2, 0, 30, tzinfo=UTC)  # 01:30 BST
    command = InverterCommand(Mode.FORCE_CHARGE, until, 2.56)
    assert await driver.async_ensure(command)
    # 2.56 kW is the 50 A the current number already holds.
    assert _made(calls) == [
        (
            "foxess_modbus",
            "update_charge_period",
            {
                "inverter": DEVICE_ID,
                "charge_period": 1,
                "enable_force_charge": True,
                "enable_charge_from_grid": True,
                "start": "22:10:00",
                "end": "23:59:00",
            },
        ),
        (
            "foxess_modbus",
            "update_charge_period",
            {
                "inverter": DEVICE_ID,
                "charge_period": 2,
                "enable_force_charge": True,
                "enable_charge_from_grid": True,
                "start": "00:00:00",
                "end": "01:30:00",
            },
        ),
    ]
    for entity_id in PERIODS:
        hass.states.async_set(entity_id, "on")
    state = await driver.async_read_state()
    assert (state.mode, state.until) == (Mode.FORCE_CHARGE, until)
    assert state.power_kw == pytest.approx(2.56)
    calls.clear()
    assert not await driver.async_ensure(command)
    assert calls == []


async def test_charge_periods_one_window_then_release(
    hass: HomeAssistant, calls: list[Event[Any]]
) -> None:
    _set_states(hass, "Feed-in First")
    for entity_id in PERIODS:
        hass.states.async_set(entity_id, "off")
    driver = _driver(hass, PERIOD_MODEL)
    until = NOW + timedelta(minutes=49, seconds=30)
    await driver.async_apply(InverterCommand(Mode.FORCE_CHARGE, until, 1.024))
    assert _made(calls) == [
        ("number", "set_value", {"entity_id": CURRENT, "value": 20.0}),
        ("select", "select_option", {"entity_id": WORK_MODE, "option": "Self Use"}),
        (
            "foxess_modbus",
            "update_charge_period",
            {
                "inverter": DEVICE_ID,
                "charge_period": 2,
                "enable_force_charge": False,
                "enable_charge_from_grid": False,
            },
        ),
        (
            "foxess_modbus",
            "update_charge_period",
            {
                "inverter": DEVICE_ID,
                "charge_period": 1,
                "enable_force_charge": True,
                "enable_charge_from_grid": True,
                "start": "22:10:00",
                "end": "23:00:00",
            },
        ),
    ]
    _set_states(hass, max_charge_current=20.0)
    hass.states.async_set(PERIODS[0], "on")
    calls.clear()
    await driver.async_release()
    assert [(c[2].get("charge_period"), c[2].get("value")) for c in _made(calls)] == [
        (2, None),
        (1, None),
        (None, 50.0),
    ]
    assert not _made(calls)[1][2]["enable_force_charge"]


async def test_charge_periods_without_current_number_or_period_sensors(
    hass: HomeAssistant, calls: list[Event[Any]]
) -> None:
    _set_states(hass)
    entities = FoxessModbusEntities(work_mode=WORK_MODE, inverter=DEVICE_ID)
    driver = _driver(hass, entities)
    command = InverterCommand(Mode.FORCE_CHARGE, NOW + timedelta(minutes=20), 3.0)
    assert await driver.async_ensure(command)
    assert [c[1] for c in _made(calls)] == ["update_charge_period"] * 2
    # Without sensors the driver trusts the window it wrote.
    state = await driver.async_read_state()
    assert (state.mode, state.power_kw) == (Mode.FORCE_CHARGE, None)
    assert driver.matches(state, command)


async def test_unreadable_work_mode_raises(hass: HomeAssistant) -> None:
    driver = _driver(hass)
    with pytest.raises(InverterUnavailableError) as err:
        await driver.async_read_state()
    assert err.value.reason is Reason.ENTITY_MISSING
    hass.states.async_set(WORK_MODE, "unavailable")
    with pytest.raises(InverterUnavailableError) as err:
        await driver.async_read_state()
    assert err.value.reason is Reason.UNAVAILABLE


async def test_unknown_option_and_bad_numbers_read_as_unknown(
    hass: HomeAssistant,
) -> None:
    _set_states(hass, "Force Discharge")
    hass.states.async_set(DISCHARGE_POWER, "n/a")
    hass.states.async_set(SOC, "unknown")
    state = await _driver(hass).async_read_state()
    assert (state.mode, state.power_kw, state.soc_pct) == (
        Mode.FORCE_DISCHARGE,
        None,
        None,
    )
    hass.states.async_set(WORK_MODE, "Peak Shaving")
    assert (await _driver(hass).async_read_state()).mode is None


async def test_refused_write_raises_write_error(hass: HomeAssistant) -> None:
    _set_states(hass, "Force Charge")
    async_mock_service(
        hass, "select", "select_option", raise_exception=HomeAssistantError("busy")
    )
    with pytest.raises(InverterWriteError) as err:
        await _driver(hass).async_apply(SELF_USE)
    assert err.value.reason is Reason.WRITE_FAILED


async def test_power_already_set_writes_only_the_mode(
    hass: HomeAssistant, calls: list[Event[Any]]
) -> None:
    _set_states(hass, force_discharge_power=2.0)
    command = InverterCommand(Mode.FORCE_DISCHARGE, NOW + timedelta(minutes=20), 2.0)
    await _driver(hass).async_apply(command)
    assert _made(calls) == [
        (
            "select",
            "select_option",
            {"entity_id": WORK_MODE, "option": "Force Discharge"},
        )
    ]
