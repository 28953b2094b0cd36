"""Tests of finding a foxess_modbus inverter's entities in the registry."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.battery_optimizer.inverters.foxess_modbus_entities import (
    FoxessModbusEntities,
    find_foxess_modbus_entities,
)


def _add(
    registry: er.EntityRegistry,
    domain: str,
    unique_id: str,
    device_id: str,
    object_id: str,
) -> str:
    return registry.async_get_or_create(
        domain,
        "foxess_modbus",
        unique_id,
        device_id=device_id,
        suggested_object_id=object_id,
    ).entity_id


async def test_find_entities_of_a_device(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain="foxess_modbus")
    entry.add_to_hass(hass)
    devices = dr.async_get(hass)
    registry = er.async_get(hass)
    remote = devices.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("foxess_modbus", "H1 LAN")}
    ).id
    periods = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("foxess_modbus", "H1 AUX garage")},
    ).id
    _add(registry, "select", "foxess_modbus_work_mode", remote, "work_mode")
    _add(
        registry,
        "number",
        "foxess_modbus_force_charge_power",
        remote,
        "force_charge_power",
    )
    _add(
        registry,
        "number",
        "foxess_modbus_force_discharge_power",
        remote,
        "force_discharge_power",
    )
    _add(
        registry,
        "sensor",
        "foxess_modbus_max_charge_current",
        remote,
        "max_charge_current_2",
    )
    _add(
        registry,
        "number",
        "foxess_modbus_max_charge_current",
        remote,
        "max_charge_current",
    )
    _add(
        registry,
        "number",
        "foxess_modbus_max_discharge_current",
        remote,
        "max_discharge_current",
    )
    _add(registry, "sensor", "foxess_modbus_battery_soc", remote, "battery_soc")
    found = find_foxess_modbus_entities(hass, remote)
    assert found == FoxessModbusEntities(
        work_mode="select.work_mode",
        force_charge_power="number.force_charge_power",
        force_discharge_power="number.force_discharge_power",
        max_charge_current="number.max_charge_current",
        battery_soc="sensor.battery_soc",
    )
    assert found is not None
    assert found.remote_control
    assert not found.charge_periods

    _add(
        registry,
        "select",
        "foxess_modbus_garage_work_mode",
        periods,
        "garage_work_mode",
    )
    _add(
        registry,
        "number",
        "foxess_modbus_garage_min_soc_on_grid",
        periods,
        "garage_min_soc_on_grid",
    )
    for n in (1, 2):
        key = f"time_period_{n}_enable_force_charge"
        _add(
            registry,
            "binary_sensor",
            f"foxess_modbus_garage_{key}",
            periods,
            f"garage_{key}",
        )
    found = find_foxess_modbus_entities(hass, periods)
    assert found is not None
    assert found.charge_periods
    assert found.inverter == periods
    assert found.min_soc_on_grid == "number.garage_min_soc_on_grid"
    assert found.charge_period_enabled == (
        "binary_sensor.garage_time_period_1_enable_force_charge",
        "binary_sensor.garage_time_period_2_enable_force_charge",
    )
    other = devices.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("foxess_modbus", "none")}
    ).id
    assert find_foxess_modbus_entities(hass, other) is None
