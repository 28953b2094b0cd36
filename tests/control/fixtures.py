"""A recording fake inverter, hand-made plans and a plan feed for the control tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from unittest.mock import patch

from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from custom_components.battery_optimizer.coordinator import PlanCoordinator
from custom_components.battery_optimizer.inverters.base import (
    SELF_USE,
    Capabilities,
    InverterCommand,
    InverterDriver,
    InverterState,
)
from custom_components.battery_optimizer.optimizer.horizon import next_boundary
from custom_components.battery_optimizer.optimizer.model import (
    Mode,
    Plan,
    PlanStatus,
    RuleSettings,
    Slot,
)
from custom_components.battery_optimizer.plan.result import PlanResult, Recommendation

from ..conftest import NOW, SLOT

FULL = Capabilities(
    remote_control=True,
    charge_periods=False,
    backup_mode=True,
    feed_in_first=True,
    power_unit="kW",
    max_power_kw=5.0,
    min_seconds_between_writes=0.0,
    max_calls_per_day=None,
)
NO_BACKUP = Capabilities(
    remote_control=True,
    charge_periods=False,
    backup_mode=False,
    feed_in_first=False,
    power_unit="kW",
    max_power_kw=5.0,
    min_seconds_between_writes=0.0,
    max_calls_per_day=None,
)
CHARGE_KW = 3.0
DISCHARGE_KW = 2.5
FIRST_END = next_boundary(NOW)  # 10:30, the end of the slot running at NOW

# Prices that make each forced mode worth its while.
MODE_PRICE_P = {Mode.FORCE_CHARGE: 5.0, Mode.FORCE_DISCHARGE: 35.0}

type Call = tuple[str, InverterCommand | None]


class FakeInverter(InverterDriver):
    """Holds the last command written and records every call, in order."""

    def __init__(self, capabilities: Capabilities = FULL) -> None:
        """Start in Self Use with nothing recorded."""
        self.capabilities = capabilities
        self.command = SELF_USE
        self.calls: list[Call] = []
        self.failures: list[Exception] = []
        self.ignore_writes = False

    async def async_read_state(self) -> InverterState:
        """The command in force as the inverter would report it."""
        self.calls.append(("read", None))
        command = self.command
        return InverterState(
            mode=command.mode,
            power_kw=command.power_kw,
            target_soc_pct=command.target_soc_pct,
            until=command.until,
        )

    async def async_apply(self, command: InverterCommand) -> None:
        """Record the command, then fail or take it."""
        self.calls.append(("apply", command))
        self._write(command)

    async def async_release(self) -> None:
        """Record the release, then fail or return to Self Use."""
        self.calls.append(("release", None))
        self._write(SELF_USE)

    def _write(self, command: InverterCommand) -> None:
        if self.failures:
            raise self.failures.pop(0)
        if not self.ignore_writes:
            self.command = command

    @property
    def writes(self) -> list[Call]:
        """The calls that write, in order."""
        return [call for call in self.calls if call[0] != "read"]


def make_slot(
    start: datetime,
    end: datetime,
    mode: Mode,
    soc_end_pct: float,
    *,
    import_p: float = 20.0,
    export_p: float = 5.0,
    load_kw: float = 0.5,
    pv_kw: float = 0.0,
) -> Slot:
    """One slot whose flows carry out `mode`."""
    charge = CHARGE_KW if mode is Mode.FORCE_CHARGE else 0.0
    discharge = DISCHARGE_KW if mode is Mode.FORCE_DISCHARGE else 0.0
    if mode is Mode.SELF_USE:
        discharge = max(load_kw - pv_kw, 0.0)
    grid = load_kw - pv_kw + charge - discharge
    return Slot(
        start=start,
        end=end,
        duration_h=(end - start).total_seconds() / 3600,
        import_price_p_per_kwh=import_p,
        export_price_p_per_kwh=export_p,
        price_is_forecast=False,
        load_kw=load_kw,
        pv_kw=pv_kw,
        import_kw=max(grid, 0.0),
        export_kw=max(-grid, 0.0),
        charge_kw=charge,
        discharge_kw=discharge,
        curtail_kw=0.0,
        soc_end_kwh=soc_end_pct / 10,
        soc_end_pct=soc_end_pct,
        mode=mode,
        charge_current_a=0.0,
        cost_p=0.0,
    )


def make_plan(
    modes: Sequence[Mode],
    *,
    start: datetime = NOW,
    prices_p: Sequence[float] | None = None,
    terminal_value_p: float = 15.0,
) -> Plan:
    """A plan from `start` with one slot per mode; SoC moves 10 % per forced slot.

    Import and export cost 20p, but 5p where the plan charges and 35p where it
    discharges, unless `prices_p` says otherwise.
    """
    slots: list[Slot] = []
    soc = 55.0
    slot_start, slot_end = start, next_boundary(start)
    for t, mode in enumerate(modes):
        soc += {Mode.FORCE_CHARGE: 10.0, Mode.FORCE_DISCHARGE: -10.0}.get(mode, 0.0)
        soc = min(max(soc, 10.0), 100.0)
        price = prices_p[t] if prices_p is not None else MODE_PRICE_P.get(mode, 20.0)
        slots.append(
            make_slot(slot_start, slot_end, mode, soc, import_p=price, export_p=price)
        )
        slot_start, slot_end = slot_end, slot_end + SLOT
    return Plan(
        slots=tuple(slots),
        status=PlanStatus.OPTIMAL,
        objective_p=0.0,
        solve_ms=1.0,
        initial_soc_kwh=5.5,
        terminal_value_p_per_kwh=terminal_value_p,
    )


def make_result(plan: Plan | None, generated_at: datetime) -> PlanResult:
    """A plan result as the coordinator publishes it."""
    return PlanResult(
        generated_at=generated_at,
        soc_pct=55.0,
        soc_stale=False,
        plan=plan,
        kpis=None,
        recommendation=Recommendation(Mode.SELF_USE, 0.0, 0.0, None, ""),
        price_coverage_pct=100.0,
        price_coverage_12h_pct=100.0,
        prices_end=None,
        settings=RuleSettings(),
    )


@dataclass
class PlanFeed:
    """What the plan coordinator returns on each refresh: `plan`, or a failure."""

    plan: Plan | None = field(default_factory=lambda: make_plan([Mode.SELF_USE] * 4))
    fail: bool = False
    refreshes: int = 0

    async def update(self) -> PlanResult:
        """Stand in for PlanCoordinator._async_update_data."""
        self.refreshes += 1
        if self.fail:
            raise UpdateFailed("solver unavailable in this test")
        return make_result(self.plan, dt_util.utcnow())


@contextmanager
def feeding(feed: PlanFeed) -> Iterator[PlanFeed]:
    """Replace planning by the feed's hand-made plans."""

    async def update(self: PlanCoordinator) -> PlanResult:
        return await feed.update()

    with patch.object(PlanCoordinator, "_async_update_data", update):
        yield feed


@contextmanager
def driving(driver: InverterDriver) -> Iterator[InverterDriver]:
    """Have every entry that is set up drive `driver`."""
    with patch(
        "custom_components.battery_optimizer.create_driver", return_value=driver
    ):
        yield driver


def forced(mode: Mode, until: datetime, power_kw: float, target: float) -> Call:
    """The apply call a forced command makes."""
    return ("apply", InverterCommand(mode, until, power_kw, target))


RELEASE: Call = ("release", None)
HOUR = timedelta(hours=1)
