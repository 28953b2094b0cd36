"""Pure-Python battery optimizer: no Home Assistant imports below this package."""

from __future__ import annotations

import dataclasses
from datetime import UTC, tzinfo
import time

from .kpis import compute_kpis, no_battery_cost_p
from .lp import SolverError, solve_lp
from .model import (
    Battery,
    Inputs,
    InvalidInputError,
    Kpis,
    Mode,
    Plan,
    PlanStatus,
    RuleSettings,
    Site,
    Slot,
)

__all__ = [
    "Battery",
    "Inputs",
    "InvalidInputError",
    "Kpis",
    "Mode",
    "Plan",
    "PlanStatus",
    "RuleSettings",
    "Site",
    "Slot",
    "SolverError",
    "compute_kpis",
    "no_battery_cost_p",
    "optimize",
    "solve_lp",
]


def optimize(
    inputs: Inputs,
    battery: Battery,
    site: Site,
    settings: RuleSettings = RuleSettings(),  # noqa: B008 - frozen, so sharing is safe
    *,
    time_limit_s: float = 3.0,
    display_tz: tzinfo = UTC,
) -> Plan:
    """Plan with the LP; fall back to the rules if it fails, saying why."""
    battery.validate()
    site.validate()
    inputs.validate()
    started = time.perf_counter()
    try:
        return solve_lp(
            inputs, battery, site, time_limit_s=time_limit_s, display_tz=display_tz
        )
    except SolverError as err:
        status, why = err.status, str(err)
    except Exception as err:  # any solver fault must still yield a plan
        status, why = PlanStatus.FALLBACK_ERROR, f"solver failed: {err!r}"
    # Imported here so the LP works on its own and rules load only when needed.
    from .rules import plan_rules

    plan = plan_rules(inputs, battery, site, settings, display_tz)
    return dataclasses.replace(
        plan,
        status=status,
        message=f"Rule-based plan: {why}",
        solve_ms=(time.perf_counter() - started) * 1000,
    )
