"""Smoke tests of the foxess_modbus stand-in: what foxess_modbus users see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
import voluptuous as vol

from custom_components.battery_optimizer.inverters.base import (
    InverterCommand,
    InverterUnavailableError,
)
from custom_components.battery_optimizer.inverters.foxess_modbus import (
    FoxessModbusDriver,
)
from custom_components.battery_optimizer.inverters.foxess_modbus_entities import (
    find_foxess_modbus_entities,
)
from custom_components.battery_optimizer.optimizer.model import Mode

from .fixtures import (
    ENTRY_ID,
    async_poll,
    async_setup_stand_in,
    foxess_modbus_stand_in,
    stand_in_device_id,
)

pytestmark = pytest.mark.usefixtures(foxess_modbus_stand_in.__name__)

WORK_MODE = "select.work_mode"
SOC = "sensor.battery_soc"
CHARGE_POWER = "number.force_charge_power"
MAX_SOC = "number.max_soc"
MINUTE = timedelta(minutes=1)


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _soc(hass: HomeAssistant) -> int:
    return int(_state(hass, SOC))


async def _call(hass: HomeAssistant, domain: str, service: str, **data: Any) -> None:
    await hass.services.async_call(domain, service, data, blocking=True)


async def _select(hass: HomeAssistant, option: str) -> None:
    await _call(hass, "select", "select_option", entity_id=WORK_MODE, option=option)


async def test_entities_have_foxess_modbus_ids_and_ranges(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """The registry holds the ids foxess_modbus gives, and the numbers its ranges."""
    entry = await async_setup_stand_in(hass)
    work_mode = entity_registry.async_get(WORK_MODE)
    assert work_mode is not None
    assert work_mode.unique_id == "foxess_modbus_work_mode"
    assert work_mode.platform == "foxess_modbus"
    power = hass.states.get(CHARGE_POWER)
    assert power is not None
    assert power.attributes["unit_of_measurement"] == "kW"
    assert (power.attributes["min"], power.attributes["max"]) == (0.0, 5.0)
    min_soc = hass.states.get("number.min_soc_on_grid")
    assert min_soc is not None
    assert (min_soc.attributes["min"], min_soc.attributes["max"]) == (10, 100)
    select = hass.states.get(WORK_MODE)
    assert select is not None
    assert select.attributes["options"] == [
        "Self Use",
        "Feed-in First",
        "Back-up",
        "Peak Shaving",
        "Force Charge",
        "Force Discharge",
    ]
    found = find_foxess_modbus_entities(hass, stand_in_device_id(hass, entry))
    assert found is not None
    assert found.remote_control
    assert found.battery_soc == SOC
    assert len(found.charge_period_enabled) == 2


async def test_states_are_unknown_until_the_first_poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The start-up race: the driver finds no work mode before the first poll."""
    entry = await async_setup_stand_in(hass, first_poll_delay=30)
    entities = find_foxess_modbus_entities(hass, stand_in_device_id(hass, entry))
    assert entities is not None
    driver = FoxessModbusDriver(
        hass,
        entities,
        tz=dt_util.get_default_time_zone(),
        reserve_soc_pct=10,
        max_power_kw=5,
    )
    assert _state(hass, WORK_MODE) == STATE_UNKNOWN
    assert _state(hass, SOC) == STATE_UNKNOWN
    with pytest.raises(InverterUnavailableError):
        await driver.async_read_state()
    with pytest.raises(HomeAssistantError, match="not available"):
        await _call(
            hass,
            "foxess_modbus",
            "update_charge_period",
            inverter=stand_in_device_id(hass, entry),
            charge_period=1,
            enable_force_charge=False,
            enable_charge_from_grid=False,
        )
    await async_poll(hass, freezer, timedelta(seconds=10))
    assert _state(hass, WORK_MODE) == STATE_UNKNOWN
    await async_poll(hass, freezer, timedelta(seconds=20))
    state = await driver.async_read_state()
    assert (state.mode, state.soc_pct) == (Mode.SELF_USE, 50)


@pytest.mark.parametrize(
    ("echo_writes", "right_after"),
    [(True, "Force Charge"), (False, "Self Use")],
)
async def test_force_charge_shows_when_foxess_modbus_writes_the_state(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    echo_writes: bool,
    right_after: str,
) -> None:
    """foxess_modbus shows a selected mode at once; without echo only after a poll."""
    await async_setup_stand_in(hass, echo_writes=echo_writes)
    await async_poll(hass, freezer)
    assert _state(hass, WORK_MODE) == "Self Use"
    await _select(hass, "Force Charge")
    assert _state(hass, WORK_MODE) == right_after
    await async_poll(hass, freezer)
    assert _state(hass, WORK_MODE) == "Force Charge"


async def test_force_charge_raises_soc_and_stops_at_max_soc(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Force charge imports its power until a poll finds Max SoC, then holds in Back-up."""
    # A poll a minute: the watchdog (two polls) holds while the clock jumps.
    entry = await async_setup_stand_in(hass, soc=50, poll_rate=60)
    await async_poll(hass, freezer, MINUTE)
    await _call(hass, "number", "set_value", entity_id=MAX_SOC, value=60)
    await _call(hass, "number", "set_value", entity_id=CHARGE_POWER, value=3.0)
    await _select(hass, "Force Charge")
    hardware = entry.runtime_data.hardware
    assert hardware.remote_active
    assert hardware.registers["active_power"] == -3000
    assert hardware.registers["work_mode"] == 2  # Back-up, the fallback
    socs = [_soc(hass)]
    for _ in range(30):
        await async_poll(hass, freezer, MINUTE)
        socs.append(_soc(hass))
    assert socs[0] == 50
    assert socs[5] > socs[0]
    assert 60 <= socs[-1] <= 61
    assert not hardware.remote_active
    # foxess_modbus still shows the mode asked for; the inverter holds in Back-up.
    assert _state(hass, WORK_MODE) == "Force Charge"
    assert (
        hardware.profile.work_modes[int(hardware.registers["work_mode"])] == "Back-up"
    )
    await async_poll(hass, freezer, 10 * MINUTE)
    assert _soc(hass) == socs[-1]


async def test_restart_forgets_remote_control_and_reads_back_up(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """After a restart Force Charge is gone; the watchdog ends it; Back-up remains."""
    entry = await async_setup_stand_in(hass, soc=40)
    await async_poll(hass, freezer)
    await _call(hass, "number", "set_value", entity_id=CHARGE_POWER, value=2.5)
    await _select(hass, "Force Charge")
    await async_poll(hass, freezer)
    stored = hass_storage[f"foxess_modbus_stand_in.{ENTRY_ID}"]["data"]
    assert stored["registers"]["remote_enable"] == 1

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert _state(hass, WORK_MODE) == STATE_UNKNOWN
    # The power is restored, as foxess_modbus restores its numbers.
    assert float(_state(hass, CHARGE_POWER)) == 2.5
    await async_poll(hass, freezer)
    assert _state(hass, WORK_MODE) == "Back-up"
    # Nobody rewrites remote control: the inverter's watchdog ends it.
    await async_poll(hass, freezer, MINUTE)
    assert not entry.runtime_data.hardware.remote_active
    held = _soc(hass)
    await async_poll(hass, freezer, 30 * MINUTE)
    assert _soc(hass) == held
    assert _state(hass, WORK_MODE) == "Back-up"


async def test_lost_connection_makes_entities_unavailable_and_watchdog_expire(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Five failed polls: unavailable, and remote control stops being rewritten."""
    entry = await async_setup_stand_in(hass)
    await async_poll(hass, freezer)
    await _select(hass, "Force Discharge")
    assert entry.runtime_data.hardware.remote_active
    await _call(hass, "foxess_modbus", "stand_in_fail_polls", count=-1)
    for _ in range(5):
        await async_poll(hass, freezer)
    assert _state(hass, WORK_MODE) == STATE_UNAVAILABLE
    hardware = entry.runtime_data.hardware
    await async_poll(hass, freezer, timedelta(seconds=1))
    hardware.advance(dt_util.utcnow())
    assert not hardware.remote_active
    await _call(hass, "foxess_modbus", "stand_in_fail_polls", count=0)
    await async_poll(hass, freezer)
    # Connected again: foxess_modbus still wants Force Discharge and re-enables it.
    assert _state(hass, WORK_MODE) == "Force Discharge"
    assert entry.runtime_data.hardware.remote_active


async def test_write_failures(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A refused write raises foxess_modbus's own error unless asked for HA's."""
    from custom_components.foxess_modbus.controller import (
        ModbusClientFailedError,
    )

    await async_setup_stand_in(hass)
    await async_poll(hass, freezer)
    await _call(hass, "foxess_modbus", "stand_in_fail_writes", count=1)
    with pytest.raises(ModbusClientFailedError) as raised:
        await _select(hass, "Back-up")
    assert not isinstance(raised.value, HomeAssistantError)
    await async_poll(hass, freezer, timedelta(seconds=10))
    assert _state(hass, WORK_MODE) == "Self Use"
    await _call(
        hass, "foxess_modbus", "stand_in_fail_writes", count=1, error="home_assistant"
    )
    with pytest.raises(HomeAssistantError):
        await _select(hass, "Back-up")
    await _select(hass, "Back-up")
    assert _state(hass, WORK_MODE) == "Back-up"


async def test_charge_period_charges_from_grid_in_its_window(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """update_charge_period takes the real schema and the battery charges in the window."""
    entry = await async_setup_stand_in(hass, soc=30)
    await async_poll(hass, freezer)
    now = dt_util.as_local(dt_util.utcnow())
    start = now.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=30)
    if end.date() != start.date():
        pytest.skip("the window would span midnight")
    await _call(
        hass,
        "foxess_modbus",
        "update_charge_period",
        inverter=stand_in_device_id(hass, entry),
        charge_period="1",
        enable_force_charge=True,
        enable_charge_from_grid=True,
        start=f"{start:%H:%M}:00",
        end=f"{end:%H:%M}:00",
    )
    # A written register shows on the event loop's next turn, as in foxess_modbus.
    assert _state(hass, "binary_sensor.time_period_1_enable_force_charge") == "off"
    await hass.async_block_till_done()
    assert _state(hass, "binary_sensor.time_period_1_enable_force_charge") == "on"
    assert _state(hass, "sensor.time_period_1_start") == f"{start:%H:%M}:00"
    for _ in range(10):
        await async_poll(hass, freezer, MINUTE)
    assert _soc(hass) > 30
    with pytest.raises(vol.Invalid):
        await _call(
            hass,
            "foxess_modbus",
            "update_charge_period",
            inverter=stand_in_device_id(hass, entry),
            charge_period=3,
            enable_force_charge=False,
            enable_charge_from_grid=False,
        )


async def test_driver_force_charge_through_the_stand_in(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The real driver drives the stand-in: power, then Force Charge; then release."""
    entry = await async_setup_stand_in(hass, poll_rate=60)
    await async_poll(hass, freezer, MINUTE)
    entities = find_foxess_modbus_entities(hass, stand_in_device_id(hass, entry))
    assert entities is not None
    driver = FoxessModbusDriver(
        hass,
        entities,
        tz=dt_util.get_default_time_zone(),
        reserve_soc_pct=10,
        max_power_kw=5,
        clock=dt_util.utcnow,
    )
    command = InverterCommand(
        Mode.FORCE_CHARGE, dt_util.utcnow() + timedelta(minutes=30), 3.0, 90.0
    )
    await driver.async_apply(command)
    await hass.async_block_till_done()
    assert driver.matches(await driver.async_read_state(), command)
    assert entry.runtime_data.hardware.registers["active_power"] == -3000
    for _ in range(10):
        await async_poll(hass, freezer, MINUTE)
    assert _soc(hass) > 50
    await driver.async_release()
    await async_poll(hass, freezer, MINUTE)
    state = await driver.async_read_state()
    assert state.mode is Mode.SELF_USE
    assert not entry.runtime_data.hardware.remote_active
