"""Sensors: what the battery should do now, prices, plan figures and health."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import PENCE_PER_POUND
from .coordinator import BatteryOptimizerConfigEntry, PlanCoordinator
from .entity import BatteryOptimizerEntity
from .optimizer.model import Mode, PlanStatus
from .plan.result import PlanResult
from .plan.savings import Savings, SavingsCoordinator

PARALLEL_UPDATES = 0

PRICE_UNIT = "p/kWh"
CURRENCY = "GBP"
# HA refuses states longer than 255 characters.
MAX_STATE_LENGTH = 255

# Mean absolute error of the load forecast, summed over a day.
LOAD_ERROR_UNIT = "kWh/d"

PRICE_LEVELS = ["negative", "cheap", "normal", "expensive"]
SOLVER_STATUSES = [status.value for status in PlanStatus] + ["no_plan"]


def price_level(result: PlanResult) -> str | None:
    """Classify the current import price against the user's thresholds."""
    price = result.import_price_now
    if price is None:
        return None
    if price < 0:
        return "negative"
    if price <= result.settings.cheap_price_p_per_kwh:
        return "cheap"
    if price >= result.settings.expensive_price_p_per_kwh:
        return "expensive"
    return "normal"


def next_cheap_window(result: PlanResult) -> datetime | None:
    """Start of the next slot at or below the cheap threshold."""
    if result.plan is None:
        return None
    threshold = result.settings.cheap_price_p_per_kwh
    for slot in result.plan.slots:
        if slot.import_price_p_per_kwh <= threshold:
            return slot.start
    return None


def _pounds(pence: float | None) -> float | None:
    return None if pence is None else round(pence / PENCE_PER_POUND, 2)


def plan_series(result: PlanResult) -> list[dict[str, Any]]:
    """The plan in a compact shape that dashboard cards can plot."""
    if result.plan is None:
        return []
    return [
        {
            "start": slot.start.isoformat(),
            "import_price": round(slot.import_price_p_per_kwh, 2),
            "export_price": round(slot.export_price_p_per_kwh, 2),
            "soc": round(slot.soc_end_pct, 1),
            "power": round(slot.battery_kw, 2),
            "mode": slot.mode.value,
        }
        for slot in result.plan.slots
    ]


@dataclass(frozen=True, kw_only=True)
class BatteryOptimizerSensorDescription(SensorEntityDescription):
    """A sensor whose value comes from the latest plan result."""

    value_fn: Callable[[PlanResult], str | float | datetime | None]
    attributes_fn: Callable[[PlanResult], Mapping[str, Any]] | None = None


SENSORS: tuple[BatteryOptimizerSensorDescription, ...] = (
    BatteryOptimizerSensorDescription(
        key="recommended_mode",
        translation_key="recommended_mode",
        device_class=SensorDeviceClass.ENUM,
        options=[mode.value for mode in Mode],
        value_fn=lambda r: r.recommendation.mode.value,
        attributes_fn=lambda r: {"plan": plan_series(r)},
    ),
    BatteryOptimizerSensorDescription(
        key="recommended_charge_current",
        translation_key="recommended_charge_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda r: r.recommendation.charge_current_a,
    ),
    BatteryOptimizerSensorDescription(
        key="recommended_battery_power",
        translation_key="recommended_battery_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda r: r.recommendation.battery_power_kw,
    ),
    BatteryOptimizerSensorDescription(
        key="target_soc",
        translation_key="target_soc",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda r: r.recommendation.target_soc_pct,
    ),
    BatteryOptimizerSensorDescription(
        key="reason",
        translation_key="reason",
        value_fn=lambda r: r.recommendation.reason[:MAX_STATE_LENGTH] or None,
        attributes_fn=lambda r: {
            "plan_status": r.plan.message if r.plan else None,
            "notes": list(r.notes),
        },
    ),
    BatteryOptimizerSensorDescription(
        key="import_price",
        translation_key="import_price",
        native_unit_of_measurement=PRICE_UNIT,
        suggested_display_precision=2,
        value_fn=lambda r: r.import_price_now,
    ),
    BatteryOptimizerSensorDescription(
        key="export_price",
        translation_key="export_price",
        native_unit_of_measurement=PRICE_UNIT,
        suggested_display_precision=2,
        value_fn=lambda r: r.export_price_now,
    ),
    BatteryOptimizerSensorDescription(
        key="price_level",
        translation_key="price_level",
        device_class=SensorDeviceClass.ENUM,
        options=PRICE_LEVELS,
        value_fn=price_level,
    ),
    BatteryOptimizerSensorDescription(
        key="next_cheap_window",
        translation_key="next_cheap_window",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=next_cheap_window,
    ),
    BatteryOptimizerSensorDescription(
        key="plan_cost",
        translation_key="plan_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement=CURRENCY,
        suggested_display_precision=2,
        value_fn=lambda r: _pounds(r.kpis.cost_p if r.kpis else None),
    ),
    BatteryOptimizerSensorDescription(
        key="savings_vs_no_battery",
        translation_key="savings_vs_no_battery",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement=CURRENCY,
        suggested_display_precision=2,
        value_fn=lambda r: _pounds(r.kpis.savings_vs_no_battery_p if r.kpis else None),
    ),
    BatteryOptimizerSensorDescription(
        key="savings_vs_rules",
        translation_key="savings_vs_rules",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement=CURRENCY,
        suggested_display_precision=2,
        value_fn=lambda r: _pounds(r.kpis.savings_vs_rules_p if r.kpis else None),
    ),
    BatteryOptimizerSensorDescription(
        key="stored_energy_value",
        translation_key="stored_energy_value",
        native_unit_of_measurement=PRICE_UNIT,
        suggested_display_precision=2,
        value_fn=lambda r: (
            round(r.plan.stored_energy_value_p_per_kwh, 2)
            if r.plan and r.plan.stored_energy_value_p_per_kwh is not None
            else None
        ),
    ),
    BatteryOptimizerSensorDescription(
        key="load_forecast_error",
        translation_key="load_forecast_error",
        native_unit_of_measurement=LOAD_ERROR_UNIT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda r: (
            round(r.load_error_kwh_per_day, 3)
            if r.load_error_kwh_per_day is not None
            else None
        ),
    ),
    BatteryOptimizerSensorDescription(
        key="solver_status",
        translation_key="solver_status",
        device_class=SensorDeviceClass.ENUM,
        options=SOLVER_STATUSES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda r: r.plan.status.value if r.plan else "no_plan",
    ),
    BatteryOptimizerSensorDescription(
        key="solve_time",
        translation_key="solve_time",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda r: round(r.plan.solve_ms, 1) if r.plan else None,
    ),
    BatteryOptimizerSensorDescription(
        key="last_plan",
        translation_key="last_plan",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda r: r.generated_at,
    ),
    BatteryOptimizerSensorDescription(
        key="price_coverage",
        translation_key="price_coverage",
        entity_registry_enabled_default=False,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda r: r.price_coverage_pct,
        attributes_fn=lambda r: {
            "next_12_hours": r.price_coverage_12h_pct,
            "prices_until": r.prices_end.isoformat() if r.prices_end else None,
        },
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BatteryOptimizerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the sensors of one entry."""
    coordinator = entry.runtime_data.plan
    async_add_entities(
        BatteryOptimizerSensor(coordinator, description) for description in SENSORS
    )
    savings = entry.runtime_data.savings
    async_add_entities(
        SavingsSensor(savings, description) for description in SAVINGS_SENSORS
    )


class BatteryOptimizerSensor(BatteryOptimizerEntity[PlanCoordinator], SensorEntity):
    """A sensor reading one figure of the latest plan."""

    entity_description: BatteryOptimizerSensorDescription
    # The plan series can be large: the recorder should never store it.
    _unrecorded_attributes = frozenset({"plan"})

    @property
    def native_value(self) -> str | float | datetime | None:
        """The figure from the latest plan."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Small extra attributes; the plan series on the mode sensor."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.coordinator.data)


@dataclass(frozen=True, kw_only=True)
class SavingsSensorDescription(SensorEntityDescription):
    """A sensor of the money the battery saved on one day."""

    value_fn: Callable[[Savings], float | None]
    # Today's figure starts again at local midnight: a total with a daily reset.
    resets_daily: bool = False


SAVINGS_SENSORS: tuple[SavingsSensorDescription, ...] = (
    SavingsSensorDescription(
        key="savings_today",
        translation_key="savings_today",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        resets_daily=True,
        native_unit_of_measurement=CURRENCY,
        suggested_display_precision=2,
        value_fn=lambda s: s.today_gbp,
    ),
    SavingsSensorDescription(
        key="savings_yesterday",
        translation_key="savings_yesterday",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement=CURRENCY,
        suggested_display_precision=2,
        value_fn=lambda s: s.yesterday_gbp,
    ),
)


class SavingsSensor(BatteryOptimizerEntity[SavingsCoordinator], SensorEntity):
    """Money saved against no battery, from the recorded grid meters."""

    entity_description: SavingsSensorDescription

    @property
    def available(self) -> bool:
        """Unavailable until the grid meters are chosen in the options."""
        return super().available and self.coordinator.configured

    @property
    def last_reset(self) -> datetime | None:
        """Local midnight for today's savings."""
        if not self.entity_description.resets_daily:
            return None
        return dt_util.start_of_local_day()

    @property
    def native_value(self) -> float | None:
        """The day's savings in GBP."""
        return self.entity_description.value_fn(self.coordinator.data)
