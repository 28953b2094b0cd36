"""Binary sensors: charging recommended, and whether something needs attention."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import PRICE_COVERAGE_MIN_PCT
from .coordinator import BatteryOptimizerConfigEntry, PlanCoordinator
from .entity import BatteryOptimizerEntity
from .optimizer.model import Mode
from .plan.result import PlanResult

PARALLEL_UPDATES = 0


def problems(result: PlanResult) -> list[str]:
    """Short codes of what is wrong with the latest plan, empty when all is well."""
    found: list[str] = []
    if result.soc_pct is None or result.soc_stale:
        found.append("soc_unavailable")
    if result.plan is None:
        found.append("no_plan")
    elif result.plan.is_fallback:
        found.append("solver_fallback")
    if result.price_coverage_12h_pct < PRICE_COVERAGE_MIN_PCT:
        found.append("price_coverage_low")
    return found


@dataclass(frozen=True, kw_only=True)
class BatteryOptimizerBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor computed from the latest plan result."""

    is_on_fn: Callable[[PlanResult], bool]
    attributes_fn: Callable[[PlanResult], Mapping[str, Any]] | None = None


BINARY_SENSORS: tuple[BatteryOptimizerBinarySensorDescription, ...] = (
    BatteryOptimizerBinarySensorDescription(
        key="charging_recommended",
        translation_key="charging_recommended",
        is_on_fn=lambda r: r.recommendation.mode is Mode.FORCE_CHARGE,
    ),
    BatteryOptimizerBinarySensorDescription(
        key="problem",
        translation_key="problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda r: bool(problems(r)),
        attributes_fn=lambda r: {"problems": problems(r)},
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BatteryOptimizerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the binary sensors of one entry."""
    coordinator = entry.runtime_data.plan
    async_add_entities(
        BatteryOptimizerBinarySensor(coordinator, description)
        for description in BINARY_SENSORS
    )


class BatteryOptimizerBinarySensor(
    BatteryOptimizerEntity[PlanCoordinator], BinarySensorEntity
):
    """A yes/no reading of the latest plan."""

    entity_description: BatteryOptimizerBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """Whether the condition holds for the latest plan."""
        return self.entity_description.is_on_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Which problems were found, on the problem sensor."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.coordinator.data)
