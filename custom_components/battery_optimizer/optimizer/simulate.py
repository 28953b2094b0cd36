"""Receding-horizon simulation: plan with what was known, apply the first slot, account the real cost.

Every half hour a strategy (see `strategies`) decides the slot ahead from the
information of that moment; the decision is then carried out by a battery that
follows the actual load and PV, as an inverter would, and the real grid import
and export are paid at the real prices. Perfect foresight, the limit, is one LP
over the whole period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
import time

from .lp import solve_lp
from .model import Battery, Inputs, Mode, Site

SLOT = timedelta(minutes=30)
SLOT_H = 0.5


@dataclass(frozen=True, slots=True)
class Timeline:
    """Actual half-hourly series on a continuous grid from `start` (UTC).

    `pv_forecast_kw` holds a PV forecast made before the fact, NaN where none.
    """

    start: datetime
    import_p_per_kwh: Sequence[float]
    export_p_per_kwh: Sequence[float]
    load_kw: Sequence[float]
    pv_kw: Sequence[float]
    pv_forecast_kw: Sequence[float] | None = None

    def __len__(self) -> int:
        """Number of slots."""
        return len(self.import_p_per_kwh)

    def slot_start(self, t: int) -> datetime:
        """Start of slot t."""
        return self.start + t * SLOT

    def index_at(self, moment: datetime) -> int:
        """Index of the slot starting at `moment` (or the one after it)."""
        return math.ceil((moment - self.start) / SLOT)


@dataclass(frozen=True, slots=True)
class Decision:
    """What the inverter is told to do for one slot: a mode and its power, kW."""

    mode: Mode
    charge_kw: float = 0.0
    discharge_kw: float = 0.0
    # True applies the powers as given whatever the mode, as a replayed schedule.
    follow_power: bool = False


@dataclass(frozen=True, slots=True)
class Applied:
    """Flows that actually happened in one slot, kW, and their cost."""

    import_kw: float
    export_kw: float
    charge_kw: float
    discharge_kw: float
    curtail_kw: float
    cost_p: float


@dataclass(slots=True)
class Result:
    """Outcome of one strategy over the timeline."""

    name: str
    cost_p: float = 0.0
    throughput_kwh: float = 0.0
    stored_kwh: list[float] = field(default_factory=list)
    modes: list[Mode] = field(default_factory=list)
    cost_per_slot_p: list[float] = field(default_factory=list)
    plan_ms: list[float] = field(default_factory=list)

    @property
    def replans(self) -> int:
        """Number of plans made."""
        return len(self.plan_ms)

    def equivalent_cycles(self, battery: Battery) -> float:
        """Full charge-discharge cycles the throughput amounts to."""
        return self.throughput_kwh / (2 * battery.capacity_kwh)


# A strategy maps (slot index, stored kWh) to the decision for that slot.
type Strategy = Callable[[int, float], Decision]


def apply_decision(
    decision: Decision,
    *,
    stored_kwh: float,
    load_kw: float,
    pv_kw: float,
    import_p_per_kwh: float,
    export_p_per_kwh: float,
    battery: Battery,
    site: Site,
    hours: float = SLOT_H,
) -> Applied:
    """Carry out a decision with the actual load and PV, within every limit."""
    eta_c, eta_d = battery.charge_efficiency, battery.discharge_efficiency
    charge_cap_kw = max(
        0.0,
        min(battery.charge_limit_kw, (battery.max_kwh - stored_kwh) / (eta_c * hours)),
    )
    discharge_cap_kw = max(
        0.0,
        min(
            battery.discharge_limit_kw,
            (stored_kwh - battery.reserve_kwh) * eta_d / hours,
        ),
    )
    surplus_kw = pv_kw - load_kw
    charge_kw = discharge_kw = 0.0
    mode = decision.mode
    if decision.follow_power:
        charge_kw = min(charge_cap_kw, decision.charge_kw)
        discharge_kw = min(discharge_cap_kw, decision.discharge_kw)
    # Self use and its variants react to the actual load and PV, as the inverter does.
    elif mode in (Mode.SELF_USE, Mode.HOLD, Mode.FEED_IN_FIRST):
        absorb_kw = max(surplus_kw, 0.0)
        if mode is Mode.FEED_IN_FIRST:
            absorb_kw = max(0.0, surplus_kw - site.export_limit_kw)
        charge_kw = min(charge_cap_kw, absorb_kw)
        if mode is not Mode.HOLD and surplus_kw < 0:
            discharge_kw = min(discharge_cap_kw, -surplus_kw)
    elif mode is Mode.FORCE_CHARGE:
        charge_kw = min(charge_cap_kw, max(decision.charge_kw, surplus_kw))
    elif mode is Mode.FORCE_DISCHARGE:
        discharge_kw = min(discharge_cap_kw, decision.discharge_kw)
    # The inverter's AC side limits what the battery can add to PV or take from the grid.
    charge_kw = min(charge_kw, site.inverter_ac_limit_kw + pv_kw)
    curtail_kw = max(0.0, pv_kw + discharge_kw - charge_kw - site.inverter_ac_limit_kw)
    if curtail_kw > pv_kw:
        discharge_kw -= curtail_kw - pv_kw
        curtail_kw = pv_kw
    net_kw = load_kw + charge_kw - discharge_kw - (pv_kw - curtail_kw)
    export_cap_kw = site.export_limit_kw if export_p_per_kwh >= 0 else 0.0
    if net_kw < -export_cap_kw:
        # Too much to export: the battery gives less first, then PV is curtailed.
        excess_kw = -export_cap_kw - net_kw
        cut_kw = min(discharge_kw, excess_kw)
        discharge_kw -= cut_kw
        curtail_kw += excess_kw - cut_kw
        net_kw = -export_cap_kw
    if net_kw > site.import_limit_kw:
        cut_kw = min(charge_kw, net_kw - site.import_limit_kw)
        charge_kw -= cut_kw
        net_kw -= cut_kw
    import_kw, export_kw = max(net_kw, 0.0), max(-net_kw, 0.0)
    cost_p = (import_p_per_kwh * import_kw - export_p_per_kwh * export_kw) * hours
    return Applied(import_kw, export_kw, charge_kw, discharge_kw, curtail_kw, cost_p)


def run(
    name: str,
    strategy: Strategy | None,
    timeline: Timeline,
    battery: Battery,
    site: Site,
    initial_soc_pct: float,
) -> Result:
    """Run one strategy over the timeline; None runs the house without a battery."""
    result = Result(name)
    stored_kwh = battery.capacity_kwh * initial_soc_pct / 100
    for t in range(len(timeline)):
        if strategy is None:
            decision = Decision(Mode.SELF_USE)
            active = Battery(battery.capacity_kwh, 0.0, 0.0)
        else:
            started = time.perf_counter()
            decision = strategy(t, stored_kwh)
            result.plan_ms.append((time.perf_counter() - started) * 1000)
            active = battery
        stored_kwh = _book(
            result, decision, t, timeline, stored_kwh, active, battery, site
        )
    return result


def _book(
    result: Result,
    decision: Decision,
    t: int,
    timeline: Timeline,
    stored_kwh: float,
    limits: Battery,
    battery: Battery,
    site: Site,
) -> float:
    """Carry out one slot's decision, add it to the result; return the new stored kWh."""
    applied = apply_decision(
        decision,
        stored_kwh=stored_kwh,
        load_kw=timeline.load_kw[t],
        pv_kw=timeline.pv_kw[t],
        import_p_per_kwh=timeline.import_p_per_kwh[t],
        export_p_per_kwh=timeline.export_p_per_kwh[t],
        battery=limits,
        site=site,
    )
    stored_kwh += (
        applied.charge_kw * battery.charge_efficiency
        - applied.discharge_kw / battery.discharge_efficiency
    ) * SLOT_H
    result.cost_p += applied.cost_p
    result.throughput_kwh += (applied.charge_kw + applied.discharge_kw) * SLOT_H
    result.stored_kwh.append(stored_kwh)
    result.modes.append(decision.mode)
    result.cost_per_slot_p.append(applied.cost_p)
    return stored_kwh


def stored_soc_pct(stored_kwh: float, battery: Battery) -> float:
    """Stored energy as a SoC the inputs accept (rounding can step past 0-100)."""
    return min(100.0, max(0.0, stored_kwh / battery.capacity_kwh * 100))


def perfect_foresight(
    timeline: Timeline,
    battery: Battery,
    site: Site,
    initial_soc_pct: float,
    *,
    chunk_days: int = 28,
    overlap_days: int = 3,
    time_limit_s: float = 600.0,
) -> Result:
    """The limit: LPs that know every actual price, load and PV in advance.

    One LP over many thousand slots is slow to build, so the period is cut into
    chunks of `chunk_days` that each see `overlap_days` more; only the chunk's
    own days are kept. With three days of overlap, energy is never worth
    carrying further, so the chunks match one LP over the whole period.
    """
    result = Result("perfect")
    stored_kwh = battery.capacity_kwh * initial_soc_pct / 100
    step = chunk_days * 48
    for first in range(0, len(timeline), step):
        end = min(len(timeline), first + step + overlap_days * 48)
        keep = min(step, len(timeline) - first)
        soc_pct = stored_soc_pct(stored_kwh, battery)
        inputs = Inputs(
            starts=tuple(timeline.slot_start(t) for t in range(first, end)),
            durations_h=(SLOT_H,) * (end - first),
            import_price_p_per_kwh=tuple(timeline.import_p_per_kwh[first:end]),
            export_price_p_per_kwh=tuple(timeline.export_p_per_kwh[first:end]),
            pv_kw=tuple(timeline.pv_kw[first:end]),
            load_kw=tuple(timeline.load_kw[first:end]),
            initial_soc_pct=soc_pct,
            terminal_value_p_per_kwh=0.0,
        )
        started = time.perf_counter()
        plan = solve_lp(inputs, battery, site, time_limit_s=time_limit_s)
        result.plan_ms.append((time.perf_counter() - started) * 1000)
        # Replaying the plan through the same accounting keeps the comparison fair.
        for k, slot in enumerate(plan.slots[:keep]):
            decision = Decision(slot.mode, slot.charge_kw, slot.discharge_kw, True)
            stored_kwh = _book(
                result,
                decision,
                first + k,
                timeline,
                stored_kwh,
                battery,
                battery,
                site,
            )
    return result
