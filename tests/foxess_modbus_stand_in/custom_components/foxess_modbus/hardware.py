"""The simulated inverter and battery behind the stand-in's registers.

The hardware is what keeps running when Home Assistant stops: its registers
(work mode, SoC limits, charge periods, remote control) and the battery. It is
advanced lazily to the time of each read or write, so a restart after a pause
finds the battery moved on, and a remote control nobody rewrites ends when its
watchdog expires, as on a real inverter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from homeassistant.util import dt as dt_util

from .const import (
    BACK_UP,
    CHARGE_PERIOD_COUNT,
    FEED_IN_FIRST,
    SELF_USE,
    ModelProfile,
    Register,
    period_register,
)

# Settings are piecewise constant between writes; one minute steps follow the
# charge periods, which have minute resolution, closely enough.
MAX_STEP = timedelta(minutes=1)
# A development instance left off for weeks should not replay them.
MAX_CATCH_UP = timedelta(days=2)
MINUTES_PER_HOUR = 60
PERCENT = 100.0
W_PER_KW = 1000.0
SECONDS_PER_HOUR = 3600.0

_REMOTE_REGISTERS = (
    Register.REMOTE_ENABLE,
    Register.TIMEOUT_SET,
    Register.ACTIVE_POWER,
)


@dataclass(frozen=True, slots=True)
class Site:
    """The parts of the installation that no register changes."""

    capacity_kwh: float
    battery_voltage: float
    inverter_power_w: float
    efficiency: float


def _default_registers(profile: ModelProfile) -> dict[str, float]:
    work_mode = profile.work_mode_value(SELF_USE)
    registers: dict[str, float] = {
        Register.WORK_MODE: float(work_mode if work_mode is not None else 0),
        Register.MAX_CHARGE_CURRENT: 50.0,
        Register.MAX_DISCHARGE_CURRENT: 50.0,
        Register.MIN_SOC: 10.0,
        Register.MAX_SOC: 100.0,
        Register.MIN_SOC_ON_GRID: 10.0,
    }
    if profile.remote_control:
        registers.update(dict.fromkeys(_REMOTE_REGISTERS, 0.0))
    if profile.charge_periods:
        for period in range(1, CHARGE_PERIOD_COUNT + 1):
            for part in ("start", "end", "from_grid"):
                registers[period_register(period, part)] = 0.0
    return registers


def _minute_of_day(value: float) -> int:
    register = int(value)
    return (register >> 8) * MINUTES_PER_HOUR + (register & 0xFF)


@dataclass(slots=True)
class Hardware:
    """One inverter with its battery; powers in kW, battery power positive charging."""

    site: Site
    profile: ModelProfile
    soc_pct: float
    updated_at: datetime
    load_kw: float
    pv_kw: float
    registers: dict[str, float] = field(default_factory=dict)
    battery_kw: float = 0.0
    watchdog_deadline: datetime | None = None

    @classmethod
    def new(
        cls,
        site: Site,
        profile: ModelProfile,
        *,
        soc_pct: float,
        load_kw: float,
        pv_kw: float,
        now: datetime,
    ) -> Hardware:
        """A freshly installed inverter in Self Use."""
        return cls(
            site, profile, soc_pct, now, load_kw, pv_kw, _default_registers(profile)
        )

    @classmethod
    def from_dict(
        cls, site: Site, profile: ModelProfile, data: dict[str, Any]
    ) -> Hardware:
        """The inverter as it was saved; registers it lacks get their defaults."""
        deadline = data.get("watchdog_deadline")
        registers = _default_registers(profile)
        registers.update(
            {k: float(v) for k, v in data["registers"].items() if k in registers}
        )
        return cls(
            site,
            profile,
            float(data["soc_pct"]),
            datetime.fromisoformat(data["updated_at"]),
            float(data["load_kw"]),
            float(data["pv_kw"]),
            registers,
            float(data.get("battery_kw", 0.0)),
            datetime.fromisoformat(deadline) if deadline else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """What a restart must find again."""
        return {
            "soc_pct": self.soc_pct,
            "updated_at": self.updated_at.isoformat(),
            "load_kw": self.load_kw,
            "pv_kw": self.pv_kw,
            "registers": dict(self.registers),
            "battery_kw": self.battery_kw,
            "watchdog_deadline": self.watchdog_deadline.isoformat()
            if self.watchdog_deadline
            else None,
        }

    @property
    def remote_active(self) -> bool:
        """Whether remote control drives the inverter now."""
        return bool(self.registers.get(Register.REMOTE_ENABLE))

    def read(self, now: datetime) -> dict[str, float]:
        """Every register as a poll reads it at `now`."""
        self.advance(now)
        values = dict(self.registers)
        values.update(
            {
                Register.BATTERY_SOC: float(round(self.soc_pct)),
                Register.BATTERY_VOLTAGE: self.site.battery_voltage,
                Register.BATTERY_POWER: round(-self.battery_kw, 3),
                Register.LOAD_POWER: self.load_kw,
                Register.PV_POWER: self.pv_kw,
            }
        )
        return values

    def write(self, name: str, value: float, now: datetime) -> None:
        """Write one register; remote-control writes reload the watchdog."""
        if name not in self.registers:
            raise KeyError(f"register {name} does not exist on {self.profile.name}")
        self.advance(now)
        self.registers[name] = float(value)
        if name in _REMOTE_REGISTERS:
            timeout_s = self.registers[Register.TIMEOUT_SET]
            self.watchdog_deadline = (
                now + timedelta(seconds=timeout_s)
                if self.remote_active and timeout_s > 0
                else None
            )

    def advance(self, now: datetime) -> None:
        """Run the battery from the last update to `now`."""
        if now <= self.updated_at:
            return
        moment = max(self.updated_at, now - MAX_CATCH_UP)
        while moment < now:
            end = min(now, moment + MAX_STEP)
            deadline = self.watchdog_deadline
            if deadline is not None and moment < deadline < end:
                end = deadline
            self._step(moment, end - moment)
            moment = end
            if deadline is not None and moment >= deadline:
                # Nobody rewrote the remote-control registers in time: the
                # inverter falls back to its work mode.
                self.registers[Register.REMOTE_ENABLE] = 0.0
                self.watchdog_deadline = None
        self.updated_at = now

    def _period_active(self, when: datetime) -> tuple[bool, bool]:
        """Whether a charge period runs at `when`, and whether it charges from grid."""
        if not self.profile.charge_periods:
            return False, False
        local = dt_util.as_local(when)
        minute = local.hour * MINUTES_PER_HOUR + local.minute
        for period in range(1, CHARGE_PERIOD_COUNT + 1):
            start = self.registers[period_register(period, "start")]
            end = self.registers[period_register(period, "end")]
            if (start or end) and _minute_of_day(start) <= minute < _minute_of_day(end):
                return True, bool(self.registers[period_register(period, "from_grid")])
        return False, False

    def _wanted_kw(self, when: datetime) -> tuple[float, float]:
        """Battery power the inverter aims for, and the SoC where charging stops."""
        surplus_kw = self.pv_kw - self.load_kw
        ceiling = self.registers[Register.MAX_SOC]
        charge_kw = self._limit_kw(Register.MAX_CHARGE_CURRENT)
        period, from_grid = self._period_active(when)
        if self.remote_active:
            # Active power is the inverter's AC output; PV adds to a charge.
            wanted = self.pv_kw - self.registers[Register.ACTIVE_POWER] / W_PER_KW
            # The inverter ignores Max SoC under remote control: foxess_modbus
            # stops the charge when a poll finds the SoC there.
            ceiling = PERCENT
        elif period:
            wanted = charge_kw if from_grid else max(surplus_kw, 0.0)
        else:
            mode = self.profile.work_modes.get(int(self.registers[Register.WORK_MODE]))
            if mode == BACK_UP:
                wanted = max(surplus_kw, 0.0)
            elif mode == FEED_IN_FIRST:
                wanted = min(surplus_kw, 0.0)
            else:
                wanted = surplus_kw
        discharge_kw = self._limit_kw(Register.MAX_DISCHARGE_CURRENT)
        return max(-discharge_kw, min(charge_kw, wanted)), ceiling

    def _limit_kw(self, current: Register) -> float:
        amps = self.registers[current]
        return min(
            amps * self.site.battery_voltage / W_PER_KW,
            self.site.inverter_power_w / W_PER_KW,
        )

    def _step(self, start: datetime, span: timedelta) -> None:
        hours = span.total_seconds() / SECONDS_PER_HOUR
        if hours <= 0:
            return
        wanted_kw, ceiling = self._wanted_kw(start)
        floor = self.registers[Register.MIN_SOC_ON_GRID]
        pct_per_kwh = PERCENT / self.site.capacity_kwh
        soc = self.soc_pct
        if wanted_kw > 0 and soc < ceiling:
            stored_kwh = wanted_kw * hours * self.site.efficiency
            soc = min(ceiling, soc + stored_kwh * pct_per_kwh)
            self.battery_kw = (
                (soc - self.soc_pct) / pct_per_kwh / (hours * self.site.efficiency)
            )
        elif wanted_kw < 0 and soc > floor:
            drawn_kwh = -wanted_kw * hours / self.site.efficiency
            soc = max(floor, soc - drawn_kwh * pct_per_kwh)
            self.battery_kw = (
                (soc - self.soc_pct) / pct_per_kwh * self.site.efficiency / hours
            )
        else:
            self.battery_kw = 0.0
        self.soc_pct = soc
