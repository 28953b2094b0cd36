"""A virtual battery and inverter for the demo and for dry runs.

The SoC follows the applied commands and a load and PV series. Time moves by
`advance(now)`, or on every read and write when a clock is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..optimizer.model import Mode
from .base import (
    SELF_USE,
    Capabilities,
    InverterCommand,
    InverterDriver,
    InverterState,
)

type Series = Callable[[datetime], float] | Sequence[float]

SERIES_STEP = timedelta(minutes=30)
# Small enough that a forced mode stops close to its target SoC.
INTEGRATION_STEP = timedelta(minutes=1)
HOURS_PER_SECOND = 1 / 3600


@dataclass(frozen=True, slots=True)
class SimulatedBattery:
    """The virtual battery's size and limits."""

    capacity_kwh: float = 10.4
    charge_limit_kw: float = 5.0
    discharge_limit_kw: float = 5.0
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    reserve_soc_pct: float = 10.0
    max_soc_pct: float = 100.0
    export_limit_kw: float = 3.68


@dataclass(slots=True)
class SimulatedTotals:
    """Energy that crossed the meter and the number of writes, since the start."""

    import_kwh: float = 0.0
    export_kwh: float = 0.0
    charge_kwh: float = 0.0
    discharge_kwh: float = 0.0
    writes: int = 0
    mode_changes: int = 0


class SimulatedDriver(InverterDriver):
    """An inverter driver whose inverter exists only in memory."""

    def __init__(
        self,
        battery: SimulatedBattery,
        *,
        start: datetime,
        soc_pct: float,
        load_kw: Series,
        pv_kw: Series,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Start at `start` with the battery at `soc_pct`, in Self Use."""
        self.battery = battery
        self.capabilities = Capabilities(
            remote_control=True,
            charge_periods=False,
            backup_mode=True,
            feed_in_first=True,
            power_unit="kW",
            max_power_kw=max(battery.charge_limit_kw, battery.discharge_limit_kw),
            min_seconds_between_writes=0.0,
            max_calls_per_day=None,
        )
        self.totals = SimulatedTotals()
        self._start = start
        self._now = start
        self._stored_kwh = battery.capacity_kwh * soc_pct / 100
        self._load_kw = load_kw
        self._pv_kw = pv_kw
        self._clock = clock
        self._command = SELF_USE

    @property
    def now(self) -> datetime:
        """The simulation's current time."""
        return self._now

    @property
    def soc_pct(self) -> float:
        """The virtual battery's state of charge."""
        return self._stored_kwh / self.battery.capacity_kwh * 100

    @property
    def command(self) -> InverterCommand:
        """The command in force."""
        return self._command

    def advance(self, now: datetime) -> None:
        """Run the battery from the simulation's time up to `now`."""
        while self._now < now:
            step_end = min(now, self._now + INTEGRATION_STEP)
            until = self._command.until
            if until is not None and self._now < until < step_end:
                step_end = until
            self._step(self._now, step_end)
            self._now = step_end
            # The virtual inverter ends forced modes itself, as a safe one would.
            if until is not None and self._now >= until:
                self._command = SELF_USE

    async def async_read_state(self) -> InverterState:
        """The virtual inverter's mode, power, SoC and expiry."""
        self._tick()
        command = self._command
        return InverterState(
            mode=command.mode,
            power_kw=command.power_kw,
            soc_pct=round(self.soc_pct, 2),
            target_soc_pct=command.target_soc_pct,
            until=command.until,
            raw={"stored_kwh": f"{self._stored_kwh:.3f}"},
        )

    async def async_apply(self, command: InverterCommand) -> None:
        """Validate and take `command` from now on."""
        self._tick()
        command.validate(self._now, self.capabilities)
        self.totals.writes += 1
        if command.mode is not self._command.mode:
            self.totals.mode_changes += 1
        self._command = command

    def _tick(self) -> None:
        if self._clock is not None:
            self.advance(self._clock())

    def _value(self, series: Series, when: datetime) -> float:
        if callable(series):
            return max(0.0, float(series(when)))
        index = int((when - self._start) / SERIES_STEP)
        return max(0.0, float(series[min(max(index, 0), len(series) - 1)]))

    def _step(self, start: datetime, end: datetime) -> None:
        hours = (end - start).total_seconds() * HOURS_PER_SECOND
        load_kw = self._value(self._load_kw, start)
        pv_kw = self._value(self._pv_kw, start)
        charge_kw, discharge_kw = self._battery_kw(load_kw, pv_kw, hours)
        battery = self.battery
        self._stored_kwh += (
            charge_kw * battery.charge_efficiency
            - discharge_kw / battery.discharge_efficiency
        ) * hours
        grid_kw = load_kw + charge_kw - pv_kw - discharge_kw
        self.totals.import_kwh += max(grid_kw, 0.0) * hours
        # PV beyond the export limit is curtailed, as the inverter would.
        self.totals.export_kwh += (
            min(max(-grid_kw, 0.0), battery.export_limit_kw) * hours
        )
        self.totals.charge_kwh += charge_kw * hours
        self.totals.discharge_kwh += discharge_kw * hours

    def _battery_kw(
        self, load_kw: float, pv_kw: float, hours: float
    ) -> tuple[float, float]:
        """Charge and discharge power for one step, within limits and SoC bounds."""
        battery = self.battery
        command = self._command
        floor_pct = battery.reserve_soc_pct
        ceiling_pct = battery.max_soc_pct
        surplus_kw = pv_kw - load_kw
        charge_kw = max(surplus_kw, 0.0)
        discharge_kw = max(-surplus_kw, 0.0)
        match command.mode:
            case Mode.FORCE_CHARGE:
                charge_kw, discharge_kw = max(command.power_kw, charge_kw), 0.0
                if command.target_soc_pct is not None:
                    ceiling_pct = min(ceiling_pct, command.target_soc_pct)
            case Mode.FORCE_DISCHARGE:
                charge_kw, discharge_kw = 0.0, command.power_kw
                if command.target_soc_pct is not None:
                    floor_pct = max(floor_pct, command.target_soc_pct)
            case Mode.HOLD:
                discharge_kw = 0.0
            case Mode.FEED_IN_FIRST:
                charge_kw = max(surplus_kw - battery.export_limit_kw, 0.0)
            case Mode.SELF_USE:
                pass
        room_kwh = battery.capacity_kwh * ceiling_pct / 100 - self._stored_kwh
        spare_kwh = self._stored_kwh - battery.capacity_kwh * floor_pct / 100
        charge_kw = min(
            charge_kw,
            battery.charge_limit_kw,
            max(room_kwh, 0.0) / (battery.charge_efficiency * hours),
        )
        discharge_kw = min(
            discharge_kw,
            battery.discharge_limit_kw,
            max(spare_kwh, 0.0) * battery.discharge_efficiency / hours,
        )
        return charge_kw, discharge_kw
