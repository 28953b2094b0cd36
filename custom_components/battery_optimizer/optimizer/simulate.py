"""Receding-horizon simulation: plan with what was known, apply the first slot, account the real cost.

Every half hour a strategy decides the slot ahead from the information of that
moment; the decision is then carried out by a battery that follows the actual
load and PV, as an inverter would, and the real grid import and export are
paid at the real prices. The strategies are no battery, plain self use, the
reactive rules and the LP planner (with realistic or with perfect forecasts).
Perfect foresight, the limit, is one LP over the whole period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import math
import time

from . import optimize
from .forecast import (
    load_forecast_kw,
    price_forecast_p_per_kwh,
    published_until,
    pv_forecast_kw,
)
from .lp import solve_lp
from .model import Battery, Inputs, Mode, RuleSettings, Site
from .rules import plan_rules

SLOT = timedelta(minutes=30)
SLOT_H = 0.5
# A plan never looks further than the 48 hours the integration plans over.
MAX_HORIZON_SLOTS = 96


class Forecasts(StrEnum):
    """What the planner is told about load and PV."""

    REALISTIC = "realistic"
    PERFECT = "perfect"


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


def self_use_strategy() -> Strategy:
    """What the inverter does on its own: charge from surplus PV, discharge to cover the load."""
    return lambda _t, _stored_kwh: Decision(Mode.SELF_USE)


def rules_strategy(
    timeline: Timeline, battery: Battery, site: Site, settings: RuleSettings
) -> Strategy:
    """The reactive rules: force charge when cheap, force discharge when dear, else self use."""

    def decide(t: int, stored_kwh: float) -> Decision:
        # The rules look only at the current slot, so one slot of inputs is enough.
        inputs = Inputs(
            starts=(timeline.slot_start(t),),
            durations_h=(SLOT_H,),
            import_price_p_per_kwh=(timeline.import_p_per_kwh[t],),
            export_price_p_per_kwh=(timeline.export_p_per_kwh[t],),
            pv_kw=tuple(pv_forecast_kw(timeline.pv_kw, timeline.pv_forecast_kw, t, 1)),
            load_kw=tuple(load_forecast_kw(timeline.load_kw, t, 1)),
            initial_soc_pct=_soc_pct(stored_kwh, battery),
        )
        first = plan_rules(inputs, battery, site, settings).slots[0]
        return Decision(first.mode, first.charge_kw, first.discharge_kw)

    return decide


def _soc_pct(stored_kwh: float, battery: Battery) -> float:
    """Stored energy as a SoC the inputs accept (rounding can step past 0-100)."""
    return min(100.0, max(0.0, stored_kwh / battery.capacity_kwh * 100))


@dataclass(frozen=True, slots=True)
class PlannerOptions:
    """How the LP planner is fed: forecasts, horizon and the value of energy left at the end."""

    forecasts: Forecasts = Forecasts.REALISTIC
    # Slots planned at least, using forecast prices past publication; 0 plans
    # over published prices only.
    min_horizon_slots: int = 0
    # Value of a kWh left at the end as a share of the mean forecast import
    # price; None keeps the planner's own default.
    terminal_value_share: float | None = None
    time_limit_s: float = 3.0


class PlannerStrategy:
    """The planner as run by the integration (LP, rules on failure), fed only what was known."""

    def __init__(
        self,
        timeline: Timeline,
        battery: Battery,
        site: Site,
        options: PlannerOptions = PlannerOptions(),  # noqa: B008 - frozen
    ) -> None:
        """Keep what every half-hourly plan needs."""
        self.timeline = timeline
        self.battery = battery
        self.site = site
        self.options = options
        self.fallbacks = 0

    def __call__(self, t: int, stored_kwh: float) -> Decision:
        """Plan at the start of slot t and return the first slot's decision."""
        inputs = planner_inputs(
            self.timeline, t, stored_kwh, self.battery, self.options
        )
        plan = optimize(
            inputs, self.battery, self.site, time_limit_s=self.options.time_limit_s
        )
        self.fallbacks += plan.is_fallback
        first = plan.slots[0]
        return Decision(first.mode, first.charge_kw, first.discharge_kw)


def planner_inputs(
    timeline: Timeline,
    t: int,
    stored_kwh: float,
    battery: Battery,
    options: PlannerOptions,
) -> Inputs:
    """Inputs the planner would have had at the start of slot t."""
    now = timeline.slot_start(t)
    known_end = min(len(timeline), timeline.index_at(published_until(now)))
    end = min(
        len(timeline),
        t + MAX_HORIZON_SLOTS,
        max(known_end, t + options.min_horizon_slots),
    )
    end = max(end, t + 1)
    n = end - t
    known = max(0, min(known_end, end) - t)
    import_p = list(timeline.import_p_per_kwh[t : t + known])
    export_p = list(timeline.export_p_per_kwh[t : t + known])
    if known < n:
        import_p += price_forecast_p_per_kwh(
            timeline.import_p_per_kwh, t + known, t + known, n - known
        )
        export_p += price_forecast_p_per_kwh(
            timeline.export_p_per_kwh, t + known, t + known, n - known
        )
    if options.forecasts is Forecasts.PERFECT:
        load_kw = list(timeline.load_kw[t:end])
        pv_kw = list(timeline.pv_kw[t:end])
    else:
        load_kw = load_forecast_kw(timeline.load_kw, t, n)
        pv_kw = pv_forecast_kw(timeline.pv_kw, timeline.pv_forecast_kw, t, n)
    terminal_p = None
    if options.terminal_value_share is not None:
        terminal_p = options.terminal_value_share * sum(import_p) / n
    soc_pct = _soc_pct(stored_kwh, battery)
    return Inputs(
        starts=tuple(now + k * SLOT for k in range(n)),
        durations_h=(SLOT_H,) * n,
        import_price_p_per_kwh=tuple(import_p),
        export_price_p_per_kwh=tuple(export_p),
        pv_kw=tuple(pv_kw),
        load_kw=tuple(load_kw),
        initial_soc_pct=soc_pct,
        price_is_forecast=tuple(k >= known for k in range(n)),
        terminal_value_p_per_kwh=terminal_p,
    )


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
        soc_pct = _soc_pct(stored_kwh, battery)
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
