"""The entities of the foxess_modbus integration that drive one inverter.

Found through the entity registry by the keys foxess_modbus puts at the end of
its unique ids, or named one by one in the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from ..const import (
    CONF_FORCE_CHARGE_POWER_ENTITY,
    CONF_FORCE_DISCHARGE_POWER_ENTITY,
    CONF_FOXESS_DEVICE,
    CONF_MAX_CHARGE_CURRENT_ENTITY,
    CONF_MIN_SOC_ON_GRID_ENTITY,
    CONF_WORK_MODE_ENTITY,
)

FOXESS_MODBUS_DOMAIN = "foxess_modbus"
CHARGE_PERIOD_COUNT = 2

# Entity keys foxess_modbus puts at the end of unique ids and entity ids,
# by the field of FoxessModbusEntities they fill.
ENTITY_KEYS: Mapping[str, tuple[str, str]] = {
    "work_mode": ("select", "work_mode"),
    "force_charge_power": ("number", "force_charge_power"),
    "force_discharge_power": ("number", "force_discharge_power"),
    "max_charge_current": ("number", "max_charge_current"),
    "min_soc_on_grid": ("number", "min_soc_on_grid"),
    "battery_soc": ("sensor", "battery_soc"),
}
CHARGE_PERIOD_KEYS = tuple(
    f"time_period_{n}_enable_force_charge" for n in range(1, CHARGE_PERIOD_COUNT + 1)
)


@dataclass(frozen=True, slots=True)
class FoxessModbusEntities:
    """The foxess_modbus entities the driver reads and writes.

    `inverter` is the foxess_modbus device id, the target of the charge-period
    service; `charge_period_enabled` are its "Enable Force Charge" binary sensors.
    """

    work_mode: str
    force_charge_power: str | None = None
    force_discharge_power: str | None = None
    max_charge_current: str | None = None
    min_soc_on_grid: str | None = None
    battery_soc: str | None = None
    inverter: str | None = None
    charge_period_enabled: tuple[str, ...] = ()

    @property
    def remote_control(self) -> bool:
        """Whether the model takes Force Charge and Force Discharge as work modes."""
        return (
            self.force_charge_power is not None
            and self.force_discharge_power is not None
        )

    @property
    def charge_periods(self) -> bool:
        """Whether force charge goes through charge periods instead."""
        return not self.remote_control and self.inverter is not None


def _entity_key(entry: er.RegistryEntry, key: str) -> bool:
    suffix = f"_{key}"
    object_id = entry.entity_id.split(".", 1)[1]
    return (
        entry.unique_id.endswith(suffix)
        or object_id == key
        or object_id.endswith(suffix)
    )


def find_foxess_modbus_entities(
    hass: HomeAssistant, device_id: str
) -> FoxessModbusEntities | None:
    """Find a foxess_modbus device's control entities; None if it has no work mode select."""
    registry = er.async_get(hass)
    entries = [
        entry
        for entry in er.async_entries_for_device(registry, device_id)
        if entry.platform == FOXESS_MODBUS_DOMAIN
    ]

    def find(domain: str, key: str) -> str | None:
        return next(
            (
                entry.entity_id
                for entry in entries
                if entry.domain == domain and _entity_key(entry, key)
            ),
            None,
        )

    found = {name: find(domain, key) for name, (domain, key) in ENTITY_KEYS.items()}
    work_mode = found.pop("work_mode")
    if work_mode is None:
        return None
    periods = tuple(
        entity_id
        for key in CHARGE_PERIOD_KEYS
        if (entity_id := find("binary_sensor", key)) is not None
    )
    return FoxessModbusEntities(
        work_mode=work_mode,
        inverter=device_id if periods else None,
        charge_period_enabled=periods,
        **found,
    )


def foxess_entities_from_data(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> FoxessModbusEntities | None:
    """The foxess_modbus entities an entry names, by device or one by one."""
    if device_id := data.get(CONF_FOXESS_DEVICE):
        return find_foxess_modbus_entities(hass, device_id)
    if not (work_mode := data.get(CONF_WORK_MODE_ENTITY)):
        return None
    return FoxessModbusEntities(
        work_mode=work_mode,
        force_charge_power=data.get(CONF_FORCE_CHARGE_POWER_ENTITY),
        force_discharge_power=data.get(CONF_FORCE_DISCHARGE_POWER_ENTITY),
        max_charge_current=data.get(CONF_MAX_CHARGE_CURRENT_ENTITY),
        min_soc_on_grid=data.get(CONF_MIN_SOC_ON_GRID_ENTITY),
    )
