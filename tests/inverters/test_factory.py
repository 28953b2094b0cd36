"""Tests of building the inverter driver from a config entry."""

from __future__ import annotations

from datetime import timedelta
import math

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.battery_optimizer.const import (
    CONF_API_KEY,
    CONF_DEVICE_SERIAL,
    CONF_FOXESS_DEVICE,
    CONF_INVERTER,
    INVERTER_FOX_CLOUD,
    INVERTER_FOXESS_MODBUS,
    INVERTER_NONE,
    INVERTER_SIMULATED,
)
from custom_components.battery_optimizer.inverters.factory import create_driver
from custom_components.battery_optimizer.inverters.fox_cloud import FoxCloudDriver
from custom_components.battery_optimizer.inverters.simulated import SimulatedDriver

from ..conftest import LOAD_ENTITY, SOC_ENTITY, entry_data, set_inverter_states

HALF_HOUR = timedelta(minutes=30)


def _entry(hass: HomeAssistant, **inverter: str) -> MockConfigEntry:
    entry = MockConfigEntry(domain="battery_optimizer", data=entry_data() | inverter)
    entry.add_to_hass(hass)
    return entry


async def test_recommend_only_has_no_driver(hass: HomeAssistant) -> None:
    """No inverter, or none chosen, means nothing can be written."""
    assert create_driver(hass, _entry(hass)) is None
    assert create_driver(hass, _entry(hass, **{CONF_INVERTER: INVERTER_NONE})) is None


async def test_fox_cloud_driver(hass: HomeAssistant) -> None:
    """Fox Cloud gets the key, the serial and the battery's power limit."""
    driver = create_driver(
        hass,
        _entry(
            hass,
            **{
                CONF_INVERTER: INVERTER_FOX_CLOUD,
                CONF_API_KEY: "key-123",
                CONF_DEVICE_SERIAL: "60BH372",
            },
        ),
    )
    assert isinstance(driver, FoxCloudDriver)
    assert driver.capabilities.max_power_kw == 5.0
    assert driver.capabilities.schedule_on_device


async def test_missing_foxess_device_retries_setup(hass: HomeAssistant) -> None:
    """A foxess_modbus device that is gone keeps the entry retrying, with a reason."""
    entry = _entry(
        hass,
        **{CONF_INVERTER: INVERTER_FOXESS_MODBUS, CONF_FOXESS_DEVICE: "gone"},
    )
    with pytest.raises(ConfigEntryNotReady) as err:
        create_driver(hass, entry)
    assert err.value.translation_key == "inverter_not_found"
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_simulated_driver_follows_the_sensors(hass: HomeAssistant) -> None:
    """The virtual battery starts at the SoC sensor and follows load and PV in kW."""
    set_inverter_states(hass, soc="72")
    driver = create_driver(hass, _entry(hass, **{CONF_INVERTER: INVERTER_SIMULATED}))
    assert isinstance(driver, SimulatedDriver)
    assert driver.soc_pct == pytest.approx(72.0)
    efficiency = math.sqrt(0.9)
    # 0.8 kW of PV against a 450 W load: 0.35 kW into the battery for half an hour.
    driver.advance(driver.now + HALF_HOUR)
    gained_pct = 0.35 * 0.5 * efficiency / 10.4 * 100
    assert driver.soc_pct == pytest.approx(72.0 + gained_pct)

    # Without a load reading the flat 0.4 kW load stands in; without a SoC, 50 %.
    hass.states.async_set(LOAD_ENTITY, "unavailable")
    hass.states.async_set(SOC_ENTITY, "unknown")
    fresh = create_driver(hass, _entry(hass, **{CONF_INVERTER: INVERTER_SIMULATED}))
    assert isinstance(fresh, SimulatedDriver)
    assert fresh.soc_pct == pytest.approx(50.0)
    fresh.advance(fresh.now + HALF_HOUR)
    gained_pct = 0.4 * 0.5 * efficiency / 10.4 * 100
    assert fresh.soc_pct == pytest.approx(50.0 + gained_pct)
