"""The "Automatic control" switch: let the plan drive the inverter."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .control.loop import ControlLoop
from .coordinator import BatteryOptimizerConfigEntry, PlanCoordinator, control_of
from .entity import BatteryOptimizerEntity

# The switch writes to the inverter: one at a time.
PARALLEL_UPDATES = 1

AUTOMATIC_CONTROL = SwitchEntityDescription(
    key="automatic_control", translation_key="automatic_control"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BatteryOptimizerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switch when the entry has an inverter to drive."""
    control = control_of(entry)
    if control is not None:
        async_add_entities([AutomaticControlSwitch(entry.runtime_data.plan, control)])


class AutomaticControlSwitch(
    BatteryOptimizerEntity[PlanCoordinator], SwitchEntity, RestoreEntity
):
    """On: each plan is carried out by the inverter. Off by default."""

    def __init__(self, coordinator: PlanCoordinator, control: ControlLoop) -> None:
        """Attach the switch to the entry's control loop."""
        super().__init__(coordinator, AUTOMATIC_CONTROL)
        self._control = control

    async def async_added_to_hass(self) -> None:
        """Restore the user's choice across restarts and follow the loop."""
        await super().async_added_to_hass()
        self.async_on_remove(self._control.async_add_listener(self._on_control))
        last = await self.async_get_last_state()
        if last is not None and last.state == STATE_ON:
            # Driving the inverter must not hold up the platform's setup.
            self._control.entry.async_create_task(
                self.hass,
                self._control.async_set_enabled(True, report=False),
                "restore control",
            )

    @callback
    def _on_control(self) -> None:
        self.async_write_ha_state()

    @property
    def available(self) -> bool:
        """Always: turning control off must work even when re-planning fails."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether automatic control is on."""
        return self._control.enabled

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The manual command in force, if any, and when it ends."""
        override = self._control.override
        if override is None:
            return {"manual_mode": None, "manual_until": None}
        return {
            "manual_mode": override.command.mode.value,
            "manual_until": override.until.isoformat(),
        }

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Let the plan drive the inverter."""
        await self._control.async_set_enabled(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop driving; a forced mode the loop set returns to Self Use."""
        await self._control.async_set_enabled(False)
