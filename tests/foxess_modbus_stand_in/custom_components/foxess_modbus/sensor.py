"""Sensors: battery SoC, voltage and power, load, PV and the charge-period times.

Keys, names, units and signs are foxess_modbus's: Battery SoC is a whole
percent, Inverter Battery Power (invbatpower) is positive when discharging,
powers are kW. Before the first poll every sensor is unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    PERCENTAGE,
    Platform,
    UnitOfElectricPotential,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .const import CHARGE_PERIOD_COUNT, Register, period_register
from .controller import Controller
from .entity import StandInEntity

PARALLEL_UPDATES = 0
HOUR_SHIFT = 8
MINUTE_MASK = 0xFF


@dataclass(frozen=True, kw_only=True)
class RegisterSensorDescription(SensorEntityDescription):
    """A measurement read from one register, with foxess_modbus's post-processing."""

    register: str
    value_fn: Callable[[float], float] = lambda value: value


def _power(
    key: str, name: str, value_fn: Callable[[float], float] = lambda v: v
) -> RegisterSensorDescription:
    return RegisterSensorDescription(
        key=key,
        name=name,
        register=Register.BATTERY_POWER,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        value_fn=value_fn,
    )


SENSORS: tuple[RegisterSensorDescription, ...] = (
    RegisterSensorDescription(
        key="battery_soc",
        name="Battery SoC",
        register=Register.BATTERY_SOC,
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        value_fn=int,
    ),
    RegisterSensorDescription(
        key="invbatvolt",
        name="Inverter Battery Voltage",
        register=Register.BATTERY_VOLTAGE,
        device_class=SensorDeviceClass.VOLTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
    ),
    _power("invbatpower", "Inverter Battery Power"),
    _power("battery_discharge", "Battery Discharge", lambda v: max(v, 0.0)),
    _power("battery_charge", "Battery Charge", lambda v: max(-v, 0.0)),
    RegisterSensorDescription(
        key="load_power",
        name="Load Power",
        register=Register.LOAD_POWER,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
    ),
    RegisterSensorDescription(
        key="pv_power_now",
        name="PV Power",
        register=Register.PV_POWER,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
    ),
)


def parse_time_value(value: float) -> time:
    """A charge-period register (hour << 8 | minute) as a time of day."""
    register = int(value)
    return time(register >> HOUR_SHIFT, register & MINUTE_MASK)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry[Controller],
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the measurements, and the period times where the model has periods."""
    controller = entry.runtime_data
    entities: list[SensorEntity] = [
        RegisterSensor(controller, description) for description in SENSORS
    ]
    if controller.details.profile.charge_periods:
        for period in range(1, CHARGE_PERIOD_COUNT + 1):
            for part, label, icon in (
                ("start", "Start", "mdi:timer-play-outline"),
                ("end", "End", "mdi:timer-stop-outline"),
            ):
                description = SensorEntityDescription(
                    key=f"time_period_{period}_{part}",
                    name=f"Period {period} - {label}",
                    icon=icon,
                )
                entities.append(
                    PeriodTimeSensor(
                        controller, description, period_register(period, part)
                    )
                )
    async_add_entities(entities)


class RegisterSensor(StandInEntity, SensorEntity):
    """A measurement as the last poll read it."""

    _platform_domain = Platform.SENSOR
    entity_description: RegisterSensorDescription

    def __init__(
        self, controller: Controller, description: RegisterSensorDescription
    ) -> None:
        """Read `description.register`."""
        super().__init__(controller, description, (description.register,))

    @property
    def native_value(self) -> float | None:
        """The register through the description's post-processing."""
        value = self._controller.read(self.entity_description.register)
        return None if value is None else self.entity_description.value_fn(value)


class PeriodTimeSensor(StandInEntity, SensorEntity):
    """Start or end of a charge period, 00:00:00 when the period is off.

    foxess_modbus shows the last enabled time of a disabled period instead;
    the stand-in does not remember it.
    """

    _platform_domain = Platform.SENSOR

    def __init__(
        self,
        controller: Controller,
        description: SensorEntityDescription,
        register: str,
    ) -> None:
        """Read the period's start or end register."""
        super().__init__(controller, description, (register,))
        self._register = register

    @property
    def native_value(self) -> time | None:  # type: ignore[override]
        """The register as a time of day."""
        value = self._controller.read(self._register)
        return None if value is None else parse_time_value(value)
