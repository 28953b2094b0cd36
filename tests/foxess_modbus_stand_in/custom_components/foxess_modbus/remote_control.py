"""foxess_modbus's RemoteControlManager, for the models the stand-in offers.

Force Charge and Force Discharge live only in this object's memory: a restart
forgets them. While one is on, every poll rewrites the active power, which
reloads the inverter's watchdog (twice the poll interval); the work-mode
register holds the fallback the inverter returns to when the watchdog expires:
Back-up while charging, Feed-in First while discharging. Under remote control
the inverter ignores Max SoC, so a poll that finds SoC >= Max SoC ends the
remote control and leaves Back-up, while the mode, and so the work-mode
select, stays Force Charge.

The real manager's PV-tracking charge loop needs the Pwr_limit Bat_up
register, which only H1-G1 has; on the models here it always imports the
force-charge power, as the stand-in does.
"""

from __future__ import annotations

from enum import Enum, auto
import logging
from typing import TYPE_CHECKING

from .const import BACK_UP, FEED_IN_FIRST, Register

if TYPE_CHECKING:
    from .controller import Controller

_LOGGER = logging.getLogger(__name__)


class RemoteControlMode(Enum):
    """What remote control is asked to do."""

    DISABLE = auto()
    FORCE_CHARGE = auto()
    FORCE_DISCHARGE = auto()


class RemoteControlManager:
    """Keeps the inverter in Force Charge or Force Discharge while asked to."""

    def __init__(self, controller: Controller, poll_rate_s: float) -> None:
        """Start disabled: nothing survives a restart."""
        self._controller = controller
        self._poll_rate_s = poll_rate_s
        self._mode = RemoteControlMode.DISABLE
        self._remote_control_enabled = False
        self._is_updating = False
        # Watts, set by the Force Charge Power and Force Discharge Power numbers.
        self.charge_power: int | None = None
        self.discharge_power: int | None = None

    @property
    def mode(self) -> RemoteControlMode:
        """The mode asked for, whatever the inverter does now."""
        return self._mode

    async def set_mode(self, mode: RemoteControlMode) -> None:
        """Change mode and write at once; a failed write keeps the new mode."""
        if self._mode != mode:
            self._mode = mode
            await self._update()

    async def poll_complete_callback(self) -> None:
        """Rewrite remote control after each poll, reloading the watchdog."""
        if self._is_updating:
            return
        self._is_updating = True
        try:
            await self._update()
        finally:
            self._is_updating = False

    def became_connected(self) -> None:
        """After a lost connection the inverter may have dropped remote control."""
        self._remote_control_enabled = False

    async def _update(self) -> None:
        if not self._controller.is_connected:
            return
        if self._mode is RemoteControlMode.FORCE_CHARGE:
            await self._update_charge()
        elif self._mode is RemoteControlMode.FORCE_DISCHARGE:
            await self._update_discharge()
        else:
            await self._disable_remote_control()

    def _power_w(self, wanted: int | None) -> int:
        capacity = self._controller.inverter_capacity_w
        return capacity if wanted is None or wanted > capacity else wanted

    async def _update_charge(self) -> None:
        soc = self._controller.read(Register.BATTERY_SOC)
        max_soc = self._controller.read(Register.MAX_SOC)
        if soc is not None and max_soc is not None and soc >= max_soc:
            _LOGGER.debug(
                "Force charge: soc %s%% >= max soc %s%%, using Back-up", soc, max_soc
            )
            await self._disable_remote_control(BACK_UP)
            return
        await self._enable_remote_control(BACK_UP)
        await self._controller.write_registers(
            {Register.ACTIVE_POWER: -self._power_w(self.charge_power)}
        )

    async def _update_discharge(self) -> None:
        await self._enable_remote_control(FEED_IN_FIRST)
        await self._controller.write_registers(
            {Register.ACTIVE_POWER: self._power_w(self.discharge_power)}
        )

    async def _write_work_mode(self, option: str) -> None:
        value = self._controller.details.profile.work_mode_value(option)
        if value is not None and self._controller.read(Register.WORK_MODE) != value:
            await self._controller.write_registers({Register.WORK_MODE: value})

    async def _enable_remote_control(self, fallback: str) -> None:
        await self._write_work_mode(fallback)
        if not self._remote_control_enabled:
            self._remote_control_enabled = True
            await self._controller.write_registers(
                {Register.TIMEOUT_SET: self._poll_rate_s * 2}
            )
            await self._controller.write_registers({Register.REMOTE_ENABLE: 1})

    async def _disable_remote_control(self, work_mode: str | None = None) -> None:
        # Only what this manager enabled is disabled: after a restart the
        # watchdog ends a remote control left on.
        if self._remote_control_enabled:
            self._remote_control_enabled = False
            await self._controller.write_registers({Register.REMOTE_ENABLE: 0})
        if work_mode is not None:
            await self._write_work_mode(work_mode)
