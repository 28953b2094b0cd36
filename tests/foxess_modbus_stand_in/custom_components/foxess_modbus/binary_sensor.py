"""Charge-period binary sensors, on models with charge periods.

`time_period_N_enable_force_charge` is on when the period's start or end is
not 00:00, `time_period_N_enable_charge_from_grid` mirrors its register; both
have the power device class, as in foxess_modbus.
"""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .const import CHARGE_PERIOD_COUNT, period_register
from .controller import Controller
from .entity import StandInEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry[Controller],
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add two sensors per charge period, where the model has periods."""
    controller = entry.runtime_data
    if not controller.details.profile.charge_periods:
        return
    entities: list[BinarySensorEntity] = []
    for period in range(1, CHARGE_PERIOD_COUNT + 1):
        entities.append(
            PeriodSensor(
                controller,
                BinarySensorEntityDescription(
                    key=f"time_period_{period}_enable_force_charge",
                    name=f"Period {period} - Enable Force Charge",
                    device_class=BinarySensorDeviceClass.POWER,
                ),
                (period_register(period, "start"), period_register(period, "end")),
            )
        )
        entities.append(
            PeriodSensor(
                controller,
                BinarySensorEntityDescription(
                    key=f"time_period_{period}_enable_charge_from_grid",
                    name=f"Period {period} - Enable Charge from Grid",
                    device_class=BinarySensorDeviceClass.POWER,
                ),
                (period_register(period, "from_grid"),),
            )
        )
    async_add_entities(entities)


class PeriodSensor(StandInEntity, BinarySensorEntity):
    """On when any of its registers is non-zero."""

    _platform_domain = Platform.BINARY_SENSOR

    def __init__(
        self,
        controller: Controller,
        description: BinarySensorEntityDescription,
        registers: tuple[str, ...],
    ) -> None:
        """Read `registers`."""
        super().__init__(controller, description, registers)
        self._register_names = registers

    @property
    def is_on(self) -> bool | None:
        """Unknown until every register has been read."""
        values = [self._controller.read(name) for name in self._register_names]
        if any(value is None for value in values):
            return None
        return any(values)
