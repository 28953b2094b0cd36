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
FLOW_TOL_KW = 1e-6
ENERGY_TOL_KWH = 1e-6
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
        starts=(START, *(START + timedelta(hours=first_h + 0.5 * (t - 1)) for t in range(1, n))),
        durations_h=(first_h, *([0.5] * (n - 1))),
        import_price_p_per_kwh=tuple(draw(series(tenths(-20, 80), min_size=n, max_size=n))),
        export_price_p_per_kwh=tuple(draw(series(tenths(-10, 40), min_size=n, max_size=n))),
        pv_kw=tuple(draw(series(tenths(0, 8), min_size=n, max_size=n))),
        load_kw=tuple(
            draw(series(tenths(0, min(site.import_limit_kw, 6)), min_size=n, max_size=n))
        ),
        initial_soc_pct=draw(tenths(0, 100)),
        terminal_value_p_per_kwh=draw(st.none() | tenths(-5, 30)),
    )
    return inputs, battery, site


def check_plan(plan: Plan, inputs: Inputs, battery: Battery, site: Site) -> None:
    """Every slot balances, respects every limit and the storage recursion."""
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
        assert min(i, e, c, d, u) >= -FLOW_TOL_KW, where
        assert i + slot.pv_kw - u + d == pytest.approx(
            slot.load_kw + c + e, abs=FLOW_TOL_KW
        ), where
        assert c <= battery.charge_limit_kw + FLOW_TOL_KW, where
        assert d <= battery.discharge_limit_kw + FLOW_TOL_KW, where
        assert i <= site.import_limit_kw + FLOW_TOL_KW, where
        assert e <= site.export_limit_kw + FLOW_TOL_KW, where
        assert u <= slot.pv_kw + FLOW_TOL_KW, where
        assert abs(slot.pv_kw - u + d - c) <= site.inverter_ac_limit_kw + FLOW_TOL_KW, where
        assert min(c, d) <= 10 * FLOW_TOL_KW, where
        assert min(i, e) <= 10 * FLOW_TOL_KW, where
        assert slot.cost_p == pytest.approx(
            (inputs.import_price_p_per_kwh[t] * i - inputs.export_price_p_per_kwh[t] * e) * h,
            abs=1e-9,
        ), where
        assert slot.charge_current_a == pytest.approx(battery.current_a(c), abs=1e-6)
        expected_kwh = stored_kwh + eta_c * c * h - d * h / eta_d
        assert slot.soc_end_kwh == pytest.approx(expected_kwh, abs=ENERGY_TOL_KWH), where
        assert slot.soc_end_pct == pytest.approx(
            slot.soc_end_kwh / battery.capacity_kwh * 100, abs=1e-6
        )
        # Inside [reserve, max] it stays there; a start outside only moves back.
        assert slot.soc_end_kwh >= min(battery.reserve_kwh, stored_kwh) - ENERGY_TOL_KWH, where
        assert slot.soc_end_kwh <= max(battery.max_kwh, stored_kwh) + ENERGY_TOL_KWH, where
        stored_kwh = slot.soc_end_kwh


def economic_objective_p(plan: Plan, battery: Battery) -> float:
    """Grid cost plus cycling cost minus the value of the energy left at the end."""
    cycling_p = sum(
        battery.cycle_cost_p_per_kwh * (s.charge_kw + s.discharge_kw) * s.duration_h
        for s in plan.slots
    )
    final_kwh = plan.slots[-1].soc_end_kwh
    return plan.cost_p + cycling_p - plan.terminal_value_p_per_kwh * final_kwh


def curtail_tie_break_p(plan: Plan) -> float:
    """What the LP's tie-break charges for the plan's curtailment."""
    return sum(CURTAIL_TIE_BREAK_P_PER_KWH * s.curtail_kw * s.duration_h for s in plan.slots)


def lp_objective_p(plan: Plan, battery: Battery) -> float:
    """The LP's own objective for any plan: economics, tie-break, out-of-range penalty."""
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
    return economic_objective_p(plan, battery) + curtail_tie_break_p(plan) + penalty_p


def objective_tol_p(*values: float) -> float:
    return 1e-4 + 1e-7 * max(abs(v) for v in values)


@PROFILE
@given(scenarios())
def test_rules_plan_is_feasible_and_consistent(scenario: Scenario) -> None:
    inputs, battery, site = scenario
    plan = plan_rules(inputs, battery, site, RuleSettings())
    assert plan.status is PlanStatus.RULES
    check_plan(plan, inputs, battery, site)
    assert plan.objective_p == pytest.approx(economic_objective_p(plan, battery), abs=1e-9)


@PROFILE
@given(scenarios())
def test_lp_plan_is_feasible_and_never_worse_than_rules(scenario: Scenario) -> None:
    inputs, battery, site = scenario
    plan = optimize(inputs, battery, site)
    rules = plan_rules(inputs, battery, site, RuleSettings())
    assert plan.status is PlanStatus.OPTIMAL, plan.message
    check_plan(plan, inputs, battery, site)
    assert plan.terminal_value_p_per_kwh == pytest.approx(rules.terminal_value_p_per_kwh)

    lp_p = lp_objective_p(plan, battery)
    assert plan.objective_p == pytest.approx(lp_p, abs=objective_tol_p(lp_p))
    # The rules plan is feasible for the LP, so it can never score better there.
    rules_p = lp_objective_p(rules, battery)
    assert plan.objective_p <= rules_p + objective_tol_p(plan.objective_p, rules_p)
    if battery.reserve_kwh <= plan.initial_soc_kwh <= battery.max_kwh:
        # No penalty applies: the reported objectives compare directly.
        assert plan.objective_p <= rules.objective_p + curtail_tie_break_p(
            rules
        ) + objective_tol_p(plan.objective_p, rules.objective_p)
