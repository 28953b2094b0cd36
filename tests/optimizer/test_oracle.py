"""The LP's optimum against an independent dynamic program on small cases.

The DP walks a grid of stored energy slot by slot; for each battery move it
finds the cheapest grid exchange exactly (a one-variable piecewise-linear
minimum). With lossless batteries and every quantity a multiple of the grid
step, the LP optimum lies on the grid, so both must agree; with losses the DP
is restricted to the grid, so the LP may only do better, and not by much.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import math
import random

import pytest

from custom_components.battery_optimizer.optimizer import optimize
from custom_components.battery_optimizer.optimizer.lp import (
    OUT_OF_RANGE_PENALTY_P_PER_KWH,
)
from custom_components.battery_optimizer.optimizer.model import (
    Battery,
    Inputs,
    PlanStatus,
    Site,
)

START = datetime(2025, 2, 3, 16, 0, tzinfo=UTC)
SLOT_H = 0.5
STEP_KWH = 0.05


def slot_cost_p(
    t: int, charge_kw: float, discharge_kw: float, inputs: Inputs, site: Site
) -> float:
    """Cheapest grid exchange in slot t for a given battery move; inf if none fits."""
    pv, load = inputs.pv_kw[t], inputs.load_kw[t]
    p_imp, p_exp = inputs.import_price_p_per_kwh[t], inputs.export_price_p_per_kwh[t]
    battery_kw = charge_kw - discharge_kw
    # x = PV used after curtailment; grid net = load + battery_kw - x.
    low = max(
        0.0,
        battery_kw - site.inverter_ac_limit_kw,
        load + battery_kw - site.import_limit_kw,
    )
    high = min(
        pv,
        battery_kw + site.inverter_ac_limit_kw,
        load + battery_kw + site.export_limit_kw,
    )
    if low > high + 1e-9:
        return math.inf

    def cost(x: float) -> float:
        net_kw = load + battery_kw - x
        return (p_imp if net_kw > 0 else p_exp) * net_kw * SLOT_H

    candidates = [low, high]
    if low < load + battery_kw < high:
        candidates.append(load + battery_kw)
    return min(cost(x) for x in candidates)


def dp_objective_p(
    inputs: Inputs, battery: Battery, site: Site, value_p: float
) -> float:
    """Minimum of the LP's objective over the stored-energy grid.

    That is grid cost + cycling - value * final energy, plus the LP's penalty on
    each slot ended outside [reserve, max] when the battery started outside it.
    """
    eta_c, eta_d = battery.charge_efficiency, battery.discharge_efficiency
    levels = round(battery.capacity_kwh / STEP_KWH)
    start = round(battery.capacity_kwh * inputs.initial_soc_pct / 100 / STEP_KWH)
    reserve = round(battery.reserve_kwh / STEP_KWH)
    top = round(battery.max_kwh / STEP_KWH)
    penalised_below = reserve if start < reserve else 0
    penalised_above = top if start > top else levels
    best = {start: 0.0}
    for t in range(len(inputs)):
        following: dict[int, float] = {}
        for level, so_far_p in best.items():
            # Outside [reserve, max] the battery may only move back towards it.
            lowest = min(reserve, level)
            highest = max(top, level)
            for target in range(max(0, lowest), min(levels, highest) + 1):
                delta_kwh = (target - level) * STEP_KWH
                charge_kw = max(0.0, delta_kwh) / (eta_c * SLOT_H)
                discharge_kw = max(0.0, -delta_kwh) * eta_d / SLOT_H
                if (
                    charge_kw > battery.charge_limit_kw + 1e-9
                    or discharge_kw > battery.discharge_limit_kw + 1e-9
                ):
                    continue
                grid_p = slot_cost_p(t, charge_kw, discharge_kw, inputs, site)
                cycling_p = (
                    battery.cycle_cost_p_per_kwh * (charge_kw + discharge_kw) * SLOT_H
                )
                outside_kwh = (
                    max(0, penalised_below - target) + max(0, target - penalised_above)
                ) * STEP_KWH
                penalty_p = OUT_OF_RANGE_PENALTY_P_PER_KWH * outside_kwh * SLOT_H
                total_p = so_far_p + grid_p + cycling_p + penalty_p
                if total_p < following.get(target, math.inf):
                    following[target] = total_p
        best = following
    return min(p - value_p * level * STEP_KWH for level, p in best.items())


def random_case(seed: int, efficiency: float) -> tuple[Inputs, Battery, Site]:
    """Small case whose quantities are multiples of the grid step."""
    rng = random.Random(seed)
    n = rng.randint(4, 8)

    def tenths(low: int, high: int) -> float:
        return rng.randint(low, high) / 10

    inputs = Inputs(
        starts=tuple(START + timedelta(minutes=30 * t) for t in range(n)),
        durations_h=(SLOT_H,) * n,
        import_price_p_per_kwh=tuple(tenths(-100, 450) for _ in range(n)),
        export_price_p_per_kwh=tuple(tenths(-50, 250) for _ in range(n)),
        pv_kw=tuple(rng.choice([0.0, 0.0, tenths(0, 50)]) for _ in range(n)),
        load_kw=tuple(tenths(0, 30) for _ in range(n)),
        initial_soc_pct=rng.choice([0, 10, 20, 50, 80, 100]),
        terminal_value_p_per_kwh=rng.choice([None, 0.0, 12.0]),
    )
    battery = Battery(
        capacity_kwh=rng.choice([2.0, 3.0, 5.0]),
        charge_limit_kw=rng.choice([1.0, 2.0, 3.0]),
        discharge_limit_kw=rng.choice([1.0, 2.0, 3.0]),
        charge_efficiency=efficiency,
        discharge_efficiency=efficiency,
        reserve_soc_pct=rng.choice([0, 10, 20]),
        max_soc_pct=rng.choice([80, 90, 100]),
        cycle_cost_p_per_kwh=rng.choice([0.0, 1.0]),
    )
    site = Site(
        import_limit_kw=rng.choice([4.0, 6.0]),
        export_limit_kw=rng.choice([0.0, 1.0, 3.6]),
        inverter_ac_limit_kw=rng.choice([2.0, 3.0, 5.0]),
    )
    return inputs, battery, site


@pytest.mark.parametrize("seed", range(16))
def test_lossless_lp_matches_the_dp_exactly(seed: int) -> None:
    inputs, battery, site = random_case(seed, efficiency=1.0)
    plan = optimize(inputs, battery, site)
    assert plan.status is PlanStatus.OPTIMAL
    expected_p = dp_objective_p(inputs, battery, site, plan.terminal_value_p_per_kwh)
    curtail_kwh = sum(s.curtail_kw * s.duration_h for s in plan.slots)
    # Only the LP's tie-break on curtailment (about 1e-3 p/kWh) separates the two.
    assert plan.objective_p == pytest.approx(expected_p, abs=1e-5 + 2e-3 * curtail_kwh)


@pytest.mark.parametrize("seed", range(100, 108))
def test_lossy_lp_is_at_least_as_good_as_the_dp_and_close(seed: int) -> None:
    inputs, battery, site = random_case(seed, efficiency=0.9)
    plan = optimize(inputs, battery, site)
    assert plan.status is PlanStatus.OPTIMAL
    expected_p = dp_objective_p(inputs, battery, site, plan.terminal_value_p_per_kwh)
    curtail_kwh = sum(s.curtail_kw * s.duration_h for s in plan.slots)
    assert plan.objective_p <= expected_p + 1e-5 + 2e-3 * curtail_kwh
    # Snapping each slot's move to the grid costs at most one step of energy,
    # priced at the dearest price seen, per slot.
    dearest_p = max(
        abs(p) for p in (*inputs.import_price_p_per_kwh, *inputs.export_price_p_per_kwh)
    )
    assert expected_p - plan.objective_p <= len(inputs) * STEP_KWH * dearest_p / 0.9
