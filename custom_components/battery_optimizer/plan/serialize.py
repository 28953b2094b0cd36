"""Plans as JSON-ready dictionaries for actions and diagnostics."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..optimizer.model import Slot
from .result import PlanResult


def slot_to_dict(slot: Slot) -> dict[str, Any]:
    """One slot with units in the key names."""
    return {
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "import_price_p_per_kwh": round(slot.import_price_p_per_kwh, 3),
        "export_price_p_per_kwh": round(slot.export_price_p_per_kwh, 3),
        "price_is_forecast": slot.price_is_forecast,
        "load_kw": round(slot.load_kw, 3),
        "pv_kw": round(slot.pv_kw, 3),
        "import_kw": round(slot.import_kw, 3),
        "export_kw": round(slot.export_kw, 3),
        "charge_kw": round(slot.charge_kw, 3),
        "discharge_kw": round(slot.discharge_kw, 3),
        "curtail_kw": round(slot.curtail_kw, 3),
        "soc_pct": round(slot.soc_end_pct, 2),
        "soc_kwh": round(slot.soc_end_kwh, 3),
        "mode": slot.mode.value,
        "charge_current_a": round(slot.charge_current_a, 1),
        "cost_p": round(slot.cost_p, 3),
        "reason": slot.reason,
    }


def result_to_dict(result: PlanResult) -> dict[str, Any]:
    """The whole plan with its status, recommendation and KPIs."""
    plan = result.plan
    rec = result.recommendation
    return {
        "generated_at": result.generated_at.isoformat(),
        "status": plan.status.value if plan else "no_plan",
        "message": plan.message if plan else rec.reason,
        "soc_pct": result.soc_pct,
        "soc_stale": result.soc_stale,
        "price_coverage_pct": result.price_coverage_pct,
        "price_coverage_12h_pct": result.price_coverage_12h_pct,
        "prices_until": result.prices_end.isoformat() if result.prices_end else None,
        "recommendation": {
            "mode": rec.mode.value,
            "charge_current_a": rec.charge_current_a,
            "battery_power_kw": rec.battery_power_kw,
            "target_soc_pct": rec.target_soc_pct,
            "reason": rec.reason,
        },
        "objective_p": round(plan.objective_p, 3) if plan else None,
        "solve_ms": round(plan.solve_ms, 2) if plan else None,
        "terminal_value_p_per_kwh": (
            round(plan.terminal_value_p_per_kwh, 3) if plan else None
        ),
        "stored_energy_value_p_per_kwh": (
            plan.stored_energy_value_p_per_kwh if plan else None
        ),
        "binding_constraints": list(plan.binding_constraints) if plan else [],
        "kpis": (
            {key: round(value, 4) for key, value in asdict(result.kpis).items()}
            if result.kpis
            else None
        ),
        "slots": [slot_to_dict(slot) for slot in plan.slots] if plan else [],
    }
