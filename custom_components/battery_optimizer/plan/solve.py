"""One planning run as the executor performs it: plan, rules baseline, KPIs."""

from __future__ import annotations

from datetime import tzinfo

from ..optimizer import compute_kpis, optimize
from ..optimizer.model import Battery, Inputs, Kpis, Plan, RuleSettings, Site
from ..optimizer.rules import plan_rules


def solve_plan(
    inputs: Inputs,
    battery: Battery,
    site: Site,
    settings: RuleSettings,
    time_limit_s: float,
    display_tz: tzinfo,
) -> tuple[Plan, Kpis]:
    """Solve the plan and measure it against the rules; blocking, run in the executor."""
    plan = optimize(
        inputs,
        battery,
        site,
        settings,
        time_limit_s=time_limit_s,
        display_tz=display_tz,
    )
    rules_plan = plan_rules(inputs, battery, site, settings, display_tz)
    return plan, compute_kpis(plan, inputs, battery, site, rules_plan)
