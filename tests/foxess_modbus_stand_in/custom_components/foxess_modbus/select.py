"""The work-mode select, after foxess_modbus's ModbusWorkModeSelect.

Its options are the model's work modes, plus Force Charge and Force Discharge
on models with remote control. While remote control is asked for, the select
shows that mode from memory, whatever the inverter's work-mode register holds
(the fallback: Back-up or Feed-in First).
"""

from __future__ import annotations

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .const import FORCE_CHARGE, FORCE_DISCHARGE, Register
from .controller import Controller
from .entity import StandInEntity
from .remote_control import RemoteControlMode

PARALLEL_UPDATES = 0

WORK_MODE = SelectEntityDescription(key="work_mode", name="Work Mode")
_REMOTE_OPTIONS = {
    FORCE_CHARGE: RemoteControlMode.FORCE_CHARGE,
    FORCE_DISCHARGE: RemoteControlMode.FORCE_DISCHARGE,
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry[Controller],
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the work-mode select."""
    async_add_entities([WorkModeSelect(entry.runtime_data)])


class WorkModeSelect(StandInEntity, SelectEntity):
    """Work Mode: a register, or remote control held in memory."""

    _platform_domain = Platform.SELECT

    def __init__(self, controller: Controller) -> None:
        """Offer the model's work modes, and the forced ones with remote control."""
        super().__init__(controller, WORK_MODE, (Register.WORK_MODE,))
        self._attr_options = list(controller.details.profile.work_modes.values())
        if controller.remote_control is not None:
            self._attr_options.extend(_REMOTE_OPTIONS)
        self._prev_remote_mode: RemoteControlMode | None = None

    @property
    def current_option(self) -> str | None:
        """The remote-control mode if one is on, else the work-mode register."""
        manager = self._controller.remote_control
        if manager is not None and manager.mode is not RemoteControlMode.DISABLE:
            self._prev_remote_mode = manager.mode
            return (
                FORCE_CHARGE
                if manager.mode is RemoteControlMode.FORCE_CHARGE
                else FORCE_DISCHARGE
            )
        self._prev_remote_mode = None
        value = self._controller.read(Register.WORK_MODE)
        if value is None:
            return None
        return self._controller.details.profile.work_modes.get(int(value))

    async def async_select_option(self, option: str) -> None:
        """Ask remote control for a forced mode, or write the work-mode register."""
        manager = self._controller.remote_control
        if option in _REMOTE_OPTIONS:
            assert manager is not None
            await manager.set_mode(_REMOTE_OPTIONS[option])
        else:
            if manager is not None:
                await manager.set_mode(RemoteControlMode.DISABLE)
            value = self._controller.details.profile.work_mode_value(option)
            assert value is not None
            await self._controller.write_registers({Register.WORK_MODE: value})
        # A remote-control change may write no register the select reads.
        self._write_state_now()

    def update_callback(self, changed: set[str]) -> None:
        """Also write the state when remote control changed under the select."""
        super().update_callback(changed)
        manager = self._controller.remote_control
        if manager is not None and manager.mode is not (
            self._prev_remote_mode or RemoteControlMode.DISABLE
        ):
            self.schedule_update_ha_state()
