"""Numbers: inverter settings, and the remote-control powers foxess_modbus keeps.

Settings (Max Charge Current, Min SoC (On Grid), Max SoC...) are registers,
after foxess_modbus's ModbusNumber: the written value shows at once and the
next poll confirms it. Force Charge Power and Force Discharge Power (kW, 0 to
the inverter's power, step 0.001) are no registers: foxess_modbus keeps them
in memory and restores them after a restart, after its
ModbusRemoteControlNumber.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
    RestoreNumber,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import PERCENTAGE, Platform, UnitOfElectricCurrent, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .const import Register
from .controller import Controller
from .entity import StandInEntity

PARALLEL_UPDATES = 1
W_PER_KW = 1000


@dataclass(frozen=True, kw_only=True)
class RegisterNumberDescription(NumberEntityDescription):
    """A setting held in one register."""

    register: str


def _current(key: str, name: str, register: str) -> RegisterNumberDescription:
    return RegisterNumberDescription(
        key=key,
        name=name,
        register=register,
        mode=NumberMode.BOX,
        device_class=NumberDeviceClass.CURRENT,
        native_min_value=0,
        native_max_value=50,
        native_step=0.1,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    )


def _soc(key: str, name: str, register: str, icon: str) -> RegisterNumberDescription:
    return RegisterNumberDescription(
        key=key,
        name=name,
        register=register,
        mode=NumberMode.BOX,
        device_class=NumberDeviceClass.BATTERY,
        icon=icon,
        native_min_value=10,
        native_max_value=100,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
    )


REGISTER_NUMBERS: tuple[RegisterNumberDescription, ...] = (
    _current("max_charge_current", "Max Charge Current", Register.MAX_CHARGE_CURRENT),
    _current(
        "max_discharge_current", "Max Discharge Current", Register.MAX_DISCHARGE_CURRENT
    ),
    _soc("min_soc", "Min SoC", Register.MIN_SOC, "mdi:battery-arrow-down"),
    _soc("max_soc", "Max SoC", Register.MAX_SOC, "mdi:battery-arrow-up"),
    _soc(
        "min_soc_on_grid",
        "Min SoC (On Grid)",
        Register.MIN_SOC_ON_GRID,
        "mdi:battery-arrow-down",
    ),
)


def _power(key: str, name: str) -> NumberEntityDescription:
    return NumberEntityDescription(
        key=key,
        name=name,
        mode=NumberMode.BOX,
        device_class=NumberDeviceClass.POWER,
        native_min_value=0.0,
        native_step=0.001,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
    )


FORCE_CHARGE_POWER = _power("force_charge_power", "Force Charge Power")
FORCE_DISCHARGE_POWER = _power("force_discharge_power", "Force Discharge Power")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry[Controller],
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the settings, and the remote-control powers where the model has them."""
    controller = entry.runtime_data
    entities: list[NumberEntity] = [
        RegisterNumber(controller, description) for description in REGISTER_NUMBERS
    ]
    if controller.remote_control is not None:
        entities += [
            RemoteControlNumber(controller, FORCE_CHARGE_POWER),
            RemoteControlNumber(controller, FORCE_DISCHARGE_POWER),
        ]
    async_add_entities(entities)


class RegisterNumber(StandInEntity, NumberEntity):
    """A setting register; a written value shows before the poll confirms it."""

    _platform_domain = Platform.NUMBER
    entity_description: RegisterNumberDescription

    def __init__(
        self, controller: Controller, description: RegisterNumberDescription
    ) -> None:
        """Read `description.register`."""
        super().__init__(controller, description, (description.register,))
        self._pending_value: float | None = None

    @property
    def native_value(self) -> float | None:
        """The value being written, else the cached register."""
        if self._pending_value is not None:
            return self._pending_value
        value = self._controller.read(self.entity_description.register)
        if value is not None and (self.entity_description.native_step or 1) >= 1:
            # Percent registers hold whole numbers, shown as such.
            return int(value)
        return value

    async def async_set_native_value(self, value: float) -> None:
        """Clamp to the register's range and write it."""
        description = self.entity_description
        assert description.native_min_value is not None
        assert description.native_max_value is not None
        value = max(
            description.native_min_value, min(description.native_max_value, value)
        )
        step = description.native_step or 1
        if self._controller.details.echo_writes:
            self._pending_value = value
            self.async_write_ha_state()
        try:
            # The register holds whole steps: 0.1 A, 1 %.
            await self._controller.write_registers(
                {description.register: round(round(value / step) * step, 3)}
            )
        finally:
            self._pending_value = None


class RemoteControlNumber(StandInEntity, RestoreNumber):
    """A remote-control power in kW, held in foxess_modbus's memory."""

    _platform_domain = Platform.NUMBER

    def __init__(
        self, controller: Controller, description: NumberEntityDescription
    ) -> None:
        """Unbounded until the inverter's power is known, as in foxess_modbus."""
        super().__init__(controller, description, ())
        self._attr_native_max_value = math.inf
        self._attr_native_value = None

    async def async_added_to_hass(self) -> None:
        """Restore the last value, then bound it by the inverter's power."""
        await super().async_added_to_hass()
        last = await self.async_get_last_number_data()
        if last is not None and last.native_value is not None:
            if last.native_max_value is not None:
                self._attr_native_max_value = last.native_max_value
            self._update_native_value(last.native_value)
        self._attr_native_max_value = self._controller.inverter_capacity_w / W_PER_KW
        if (
            self._attr_native_value is None
            or self._attr_native_value > self._attr_native_max_value
        ):
            self._update_native_value(self._attr_native_max_value)
        self.schedule_update_ha_state()

    async def async_set_native_value(self, value: float) -> None:
        """Keep the power for the next remote-control write."""
        self._update_native_value(value)

    def _update_native_value(self, value: float) -> None:
        value = max(self.native_min_value, min(self.native_max_value, value))
        self._attr_native_value = value
        manager = self._controller.remote_control
        assert manager is not None
        watts = int(value * W_PER_KW)
        if self.entity_description.key == FORCE_CHARGE_POWER.key:
            manager.charge_power = watts
        else:
            manager.discharge_power = watts
        self._schedule_state()
