"""Properties every plan must have, LP or rules, on random valid inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.battery_optimizer.optimizer import optimize
from custom_components.battery_optimizer.optimizer.lp import (
    CURTAIL_TIE_BREAK_P_PER_KWH,
    OUT_OF_RANGE_PENALTY_P_PER_KWH,
)
from custom_components.battery_optimizer.optimizer.model import (
    Battery,
    Inputs,
    Plan,
    PlanStatus,
    RuleSettings,
    Site,
)
from custom_components.battery_optimizer.optimizer.rules import plan_rules

START = datetime(2025, 6, 1, 10, 7, tzinfo=UTC)
# The rules plan is exact; the LP plan carries solver tolerance and shows flows
# rounded to 0.1 W (4 decimals of a kW), stored energy to 0.1 Wh.
EXACT_TOL = 1e-9
LP_TOL = 3e-4
# Fixed examples, no example database: the run is the same on every machine.
PROFILE = settings(
    max_examples=70,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

type Scenario = tuple[Inputs, Battery, Site]


def tenths(low: float, high: float) -> st.SearchStrategy[float]:
    """Numbers with one decimal, as prices and powers come."""
    return st.integers(round(low * 10), round(high * 10)).map(lambda x: x / 10)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A valid, feasible planning problem: load never exceeds the import limit."""
    n = draw(st.integers(2, 48))
    site = Site(
        import_limit_kw=draw(tenths(2, 20)),
        export_limit_kw=draw(tenths(0, 5)),
        inverter_ac_limit_kw=draw(tenths(0.5, 8)),
    )
    reserve_pct = draw(st.integers(0, 60))
    battery = Battery(
        capacity_kwh=draw(tenths(0.5, 20)),
        charge_limit_kw=draw(tenths(0, 6)),
        discharge_limit_kw=draw(tenths(0, 6)),
        charge_efficiency=draw(st.integers(70, 100)) / 100,
        discharge_efficiency=draw(st.integers(70, 100)) / 100,
        reserve_soc_pct=reserve_pct,
        max_soc_pct=draw(st.integers(max(reserve_pct, 1), 100)),
        cycle_cost_p_per_kwh=draw(tenths(0, 3)),
    )
    series = st.lists
    first_h = draw(st.sampled_from([0.5, 0.4, 0.25, 0.1]))
    inputs = Inputs(
        starts=(
            START,
            *(START + timedelta(hours=first_h + 0.5 * (t - 1)) for t in range(1, n)),
        ),
        durations_h=(first_h, *([0.5] * (n - 1))),
        import_price_p_per_kwh=tuple(
            draw(series(tenths(-20, 80), min_size=n, max_size=n))
        ),
        export_price_p_per_kwh=tuple(
            draw(series(tenths(-10, 40), min_size=n, max_size=n))
        ),
        pv_kw=tuple(draw(series(tenths(0, 8), min_size=n, max_size=n))),
        load_kw=tuple(
            draw(
                series(tenths(0, min(site.import_limit_kw, 6)), min_size=n, max_size=n)
            )
        ),
        initial_soc_pct=draw(tenths(0, 100)),
        terminal_value_p_per_kwh=draw(st.none() | tenths(-5, 30)),
    )
    return inputs, battery, site


def check_plan(
    plan: Plan, inputs: Inputs, battery: Battery, site: Site, tol: float
) -> None:
    """Every slot balances, respects every limit and the storage recursion.

    `tol` bounds the error in kW and kWh that the plan may carry.
    """
    assert len(plan.slots) == len(inputs)
    stored_kwh = battery.capacity_kwh * inputs.initial_soc_pct / 100
    assert plan.initial_soc_kwh == pytest.approx(stored_kwh)
    eta_c, eta_d = battery.charge_efficiency, battery.discharge_efficiency
    for t, slot in enumerate(plan.slots):
        h = inputs.durations_h[t]
        i, e, c, d, u = (
            slot.import_kw,
            slot.export_kw,
            slot.charge_kw,
            slot.discharge_kw,
            slot.curtail_kw,
        )
        where = f"slot {t}: {slot}"
        assert slot.start == inputs.starts[t]
        assert slot.duration_h == h
        assert slot.load_kw == inputs.load_kw[t]
        assert slot.pv_kw == inputs.pv_kw[t]
        assert min(i, e, c, d, u) >= -tol, where
        assert i + slot.pv_kw - u + d == pytest.approx(slot.load_kw + c + e, abs=tol), (
            where
        )
        assert c <= battery.charge_limit_kw + tol, where
        assert d <= battery.discharge_limit_kw + tol, where
        assert i <= site.import_limit_kw + tol, where
        assert e <= site.export_limit_kw + tol, where
        assert u <= slot.pv_kw + tol, where
        assert abs(slot.pv_kw - u + d - c) <= site.inverter_ac_limit_kw + tol, where
        assert min(c, d) <= tol, where
        assert min(i, e) <= tol, where
        assert slot.cost_p == pytest.approx(
            (
                inputs.import_price_p_per_kwh[t] * i
                - inputs.export_price_p_per_kwh[t] * e
            )
            * h,
            abs=tol,
        ), where
        # Shown to 0.1 A at most.
        assert slot.charge_current_a == pytest.approx(
            battery.current_a(c), abs=0.05 + tol
        )
        expected_kwh = stored_kwh + eta_c * c * h - d * h / eta_d
        assert slot.soc_end_kwh == pytest.approx(expected_kwh, abs=tol), where
        # Shown to 0.01 % at most.
        assert slot.soc_end_pct == pytest.approx(
            slot.soc_end_kwh / battery.capacity_kwh * 100, abs=0.005 + tol
        )
        # Inside [reserve, max] it stays there; a start outside only moves back.
        assert slot.soc_end_kwh >= min(battery.reserve_kwh, stored_kwh) - tol, where
        assert slot.soc_end_kwh <= max(battery.max_kwh, stored_kwh) + tol, where
        stored_kwh = slot.soc_end_kwh


def economic_objective_p(plan: Plan, battery: Battery) -> float:
    """Grid cost plus cycling cost minus the value of the energy left at the end."""
    cycling_p = sum(
        battery.cycle_cost_p_per_kwh * (s.charge_kw + s.discharge_kw) * s.duration_h
        for s in plan.slots
    )
    final_kwh = plan.slots[-1].soc_end_kwh
    return plan.cost_p + cycling_p - plan.terminal_value_p_per_kwh * final_kwh


def curtail_tie_break_max_p(plan: Plan) -> float:
    """Most the LP's tie-break (at most twice its base rate) charges for curtailing."""
    return sum(
        2 * CURTAIL_TIE_BREAK_P_PER_KWH * s.curtail_kw * s.duration_h
        for s in plan.slots
    )


def out_of_range_penalty_p(plan: Plan, battery: Battery) -> float:
    """What the LP charges a plan for staying below the reserve or above the maximum."""
    below = plan.initial_soc_kwh < battery.reserve_kwh
    above = plan.initial_soc_kwh > battery.max_kwh
    penalty_p = 0.0
    for s in plan.slots:
        outside_kwh = 0.0
        if below:
            outside_kwh += max(0.0, battery.reserve_kwh - s.soc_end_kwh)
        if above:
            outside_kwh += max(0.0, s.soc_end_kwh - battery.max_kwh)
        penalty_p += OUT_OF_RANGE_PENALTY_P_PER_KWH * outside_kwh * s.duration_h
    return penalty_p


def objective_tol_p(*values: float) -> float:
    """Solver tolerance on an objective of this size."""
    return 1e-4 + 1e-7 * max(abs(v) for v in values)


def rounding_tol_p(plan: Plan, battery: Battery) -> float:
    """How far rounding the LP plan's flows to LP_TOL can move its objective."""
    in_range = battery.reserve_kwh <= plan.initial_soc_kwh <= battery.max_kwh
    penalty_p_per_kwh = 0.0 if in_range else OUT_OF_RANGE_PENALTY_P_PER_KWH
    per_slot_p = sum(
        (
            abs(s.import_price_p_per_kwh)
            + abs(s.export_price_p_per_kwh)
            + 2 * battery.cycle_cost_p_per_kwh
            + penalty_p_per_kwh
        )
        * s.duration_h
        for s in plan.slots
    )
    return (per_slot_p + abs(plan.terminal_value_p_per_kwh)) * LP_TOL


@PROFILE
@given(scenarios())
def test_rules_plan_is_feasible_and_consistent(scenario: Scenario) -> None:
    inputs, battery, site = scenario
    plan = plan_rules(inputs, battery, site, RuleSettings())
    assert plan.status is PlanStatus.RULES
    check_plan(plan, inputs, battery, site, EXACT_TOL)
    assert plan.objective_p == pytest.approx(
        economic_objective_p(plan, battery), abs=EXACT_TOL
    )


@PROFILE
@given(scenarios())
def test_lp_plan_is_feasible_and_never_worse_than_rules(scenario: Scenario) -> None:
    inputs, battery, site = scenario
    plan = optimize(inputs, battery, site)
    rules = plan_rules(inputs, battery, site, RuleSettings())
    assert plan.status is PlanStatus.OPTIMAL, plan.message
    check_plan(plan, inputs, battery, site, LP_TOL)
    assert plan.terminal_value_p_per_kwh == pytest.approx(
        rules.terminal_value_p_per_kwh
    )

    # The LP's objective is the economic one plus the out-of-range penalty and a
    # tie-break on curtailment.
    lp_p = economic_objective_p(plan, battery) + out_of_range_penalty_p(plan, battery)
    assert plan.objective_p - lp_p == pytest.approx(
        curtail_tie_break_max_p(plan) / 2,
        abs=curtail_tie_break_max_p(plan) / 2
        + objective_tol_p(lp_p)
        + rounding_tol_p(plan, battery),
    )
    # The rules plan is feasible for the LP, so it can never score better there.
    rules_p = (
        rules.objective_p
        + out_of_range_penalty_p(rules, battery)
        + curtail_tie_break_max_p(rules)
    )
    assert plan.objective_p <= rules_p + objective_tol_p(plan.objective_p, rules_p)
