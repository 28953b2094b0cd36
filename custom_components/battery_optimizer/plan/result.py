"""What one re-plan produced, and the recommendation for now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..optimizer.model import Kpis, Mode, Plan, RuleSettings, Slot


@dataclass(frozen=True, slots=True)
class Recommendation:
    """What the inverter should do now, and why."""

    mode: Mode
    charge_current_a: float
    battery_power_kw: float
    target_soc_pct: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class PlanResult:
    """Everything one re-plan produced, as the entities and services read it."""

    generated_at: datetime
    soc_pct: float | None
    soc_stale: bool
    plan: Plan | None
    kpis: Kpis | None
    recommendation: Recommendation
    price_coverage_pct: float
    price_coverage_12h_pct: float
    prices_end: datetime | None
    settings: RuleSettings
    import_price_now: float | None = None
    export_price_now: float | None = None
    notes: tuple[str, ...] = field(default=())
    load_error_kwh_per_day: float | None = None

    @property
    def current_slot(self) -> Slot | None:
        """The slot that runs now, if there is a plan."""
        return self.plan.slots[0] if self.plan and self.plan.slots else None


def recommend(plan: Plan | None, soc_stale: bool, stale_reason: str) -> Recommendation:
    """Map the plan's first slot to the recommendation, self use when unsafe."""
    if plan is None or not plan.slots or soc_stale:
        return Recommendation(Mode.SELF_USE, 0.0, 0.0, None, stale_reason)
    first = plan.slots[0]
    target = first.soc_end_pct
    for slot in plan.slots[1:]:
        if slot.mode is not first.mode:
            break
        target = slot.soc_end_pct
    return Recommendation(
        mode=first.mode,
        charge_current_a=first.charge_current_a,
        battery_power_kw=round(first.battery_kw, 3),
        target_soc_pct=round(target, 1),
        reason=first.reason,
    )
