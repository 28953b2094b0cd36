"""Base entity: one service device per config entry."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, MANUFACTURER
from .coordinator import PlanCoordinator


def device_info(entry: ConfigEntry) -> DeviceInfo:
    """The one service device of an entry."""
    return DeviceInfo(
        entry_type=DeviceEntryType.SERVICE,
        identifiers={(DOMAIN, entry.entry_id)},
        manufacturer=MANUFACTURER,
        name=entry.title,
    )


class BatteryOptimizerEntity(CoordinatorEntity[PlanCoordinator]):
    """An entity that reads the latest plan."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: PlanCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to the entry's device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = device_info(entry)
