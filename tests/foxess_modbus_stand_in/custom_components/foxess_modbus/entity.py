"""What every stand-in entity shares, after foxess_modbus's ModbusEntityMixin.

Entity ids are set explicitly (`select.work_mode`), unique ids are
`foxess_modbus_<key>`, names carry no device name, and the state is written
when the controller reports a poll or a write of one of the entity's
registers, through `schedule_update_ha_state` as foxess_modbus does.
"""

from __future__ import annotations

from homeassistant.helpers.entity import Entity, EntityDescription

from .controller import Controller


class StandInEntity(Entity):
    """An entity whose state comes from the controller's register cache."""

    _attr_should_poll = False
    _platform_domain: str = ""

    def __init__(
        self,
        controller: Controller,
        description: EntityDescription,
        registers: tuple[str, ...],
    ) -> None:
        """Name the entity after `description.key`, as foxess_modbus does."""
        self._controller = controller
        self.entity_description = description
        self._registers = frozenset(registers)
        self.entity_id = controller.entity_id(self._platform_domain, description.key)
        self._attr_unique_id = controller.unique_id(description.key)
        self._attr_device_info = controller.device_info
        friendly_name = controller.details.friendly_name
        name = str(description.name)
        self._attr_name = f"{name} ({friendly_name})" if friendly_name else name

    @property
    def available(self) -> bool:
        """Unavailable only once the controller has lost the inverter."""
        return self._controller.is_connected

    async def async_added_to_hass(self) -> None:
        """Listen to the controller."""
        await super().async_added_to_hass()
        self._controller.register_entity(self)

    async def async_will_remove_from_hass(self) -> None:
        """Stop listening."""
        self._controller.remove_entity(self)
        await super().async_will_remove_from_hass()

    def update_callback(self, changed: set[str]) -> None:
        """Write the state when one of this entity's registers was read or written.

        Without echoed writes only polls report, and every entity shows what
        the poll found, remote-control memory included.
        """
        if self._registers & changed or not self._controller.details.echo_writes:
            self.schedule_update_ha_state()

    def is_connected_changed_callback(self) -> None:
        """Write the state: availability changed."""
        self.schedule_update_ha_state()

    def _write_state_now(self) -> None:
        """Show a write at once, unless the stand-in only shows what polls read."""
        if self._controller.details.echo_writes:
            self.async_write_ha_state()

    def _schedule_state(self) -> None:
        """As `_write_state_now`, on the next turn of the event loop."""
        if self._controller.details.echo_writes:
            self.schedule_update_ha_state()
