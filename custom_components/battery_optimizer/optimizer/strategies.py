"""The strategies a simulation compares, each deciding one slot at a time.

Plain self use, the reactive rules and the LP planner as the integration runs
it (with realistic or with perfect forecasts), fed only what was known then.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from . import optimize
from .forecast import (
    load_forecast_kw,
    price_forecast_p_per_kwh,
    pv_forecast_kw,
)
from .horizon import published_until
from .model import Battery, Inputs, Mode, RuleSettings, Site
from .rules import plan_rules
from .simulate import SLOT, SLOT_H, Decision, Strategy, Timeline, stored_soc_pct

# A plan never looks further than the 48 hours the integration plans over.
MAX_HORIZON_SLOTS = 96


class Forecasts(StrEnum):
    """What the planner is told about load and PV."""

    REALISTIC = "realistic"
    PERFECT = "perfect"


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
            initial_soc_pct=stored_soc_pct(stored_kwh, battery),
        )
        first = plan_rules(inputs, battery, site, settings).slots[0]
        return Decision(first.mode, first.charge_kw, first.discharge_kw)

    return decide


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
    soc_pct = stored_soc_pct(stored_kwh, battery)
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
