"""The simulation keeps energy and limits, sees only the past, and ranks the strategies as it must."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.battery_optimizer.optimizer import (
    Battery,
    Inputs,
    Mode,
    RuleSettings,
    Site,
    no_battery_cost_p,
)
from custom_components.battery_optimizer.optimizer.horizon import published_until
from custom_components.battery_optimizer.optimizer.simulate import (
    SLOT_H,
    Decision,
    Timeline,
    apply_decision,
    perfect_foresight,
    run,
)
from custom_components.battery_optimizer.optimizer.strategies import (
    Forecasts,
    PlannerOptions,
    PlannerStrategy,
    planner_inputs,
    rules_strategy,
    self_use_strategy,
)

from .backtest_fixture import load_timeline

TIMELINE = load_timeline()
BATTERY = Battery(capacity_kwh=10.4, charge_limit_kw=5.0, discharge_limit_kw=5.0)
SITE = Site()
TOL = 1e-6


def _short(days: int) -> Timeline:
    n = days * 48
    return Timeline(
        start=TIMELINE.start,
        import_p_per_kwh=TIMELINE.import_p_per_kwh[:n],
        export_p_per_kwh=TIMELINE.export_p_per_kwh[:n],
        load_kw=TIMELINE.load_kw[:n],
        pv_kw=TIMELINE.pv_kw[:n],
        pv_forecast_kw=None,
    )


@pytest.mark.parametrize(
    "decision",
    [
        Decision(Mode.SELF_USE),
        Decision(Mode.HOLD),
        Decision(Mode.FEED_IN_FIRST),
        Decision(Mode.FORCE_CHARGE, charge_kw=9.0),
        Decision(Mode.FORCE_DISCHARGE, discharge_kw=9.0),
        Decision(Mode.SELF_USE, charge_kw=2.0, discharge_kw=0.0, follow_power=True),
    ],
)
@pytest.mark.parametrize("stored_kwh", [1.04, 5.0, 10.4])
def test_applied_flows_balance_and_respect_every_limit(
    decision: Decision, stored_kwh: float
) -> None:
    """In every real slot, power balances and no limit or SoC bound is crossed."""
    for t in range(len(TIMELINE)):
        load_kw, pv_kw = TIMELINE.load_kw[t], TIMELINE.pv_kw[t]
        export_p = TIMELINE.export_p_per_kwh[t]
        a = apply_decision(
            decision,
            stored_kwh=stored_kwh,
            load_kw=load_kw,
            pv_kw=pv_kw,
            import_p_per_kwh=TIMELINE.import_p_per_kwh[t],
            export_p_per_kwh=export_p,
            battery=BATTERY,
            site=SITE,
        )
        assert a.import_kw + pv_kw - a.curtail_kw + a.discharge_kw == pytest.approx(
            load_kw + a.charge_kw + a.export_kw
        )
        assert min(a.import_kw, a.export_kw, a.charge_kw, a.discharge_kw) >= 0
        assert 0 <= a.curtail_kw <= pv_kw + TOL
        assert a.export_kw <= SITE.export_limit_kw + TOL
        assert a.import_kw <= SITE.import_limit_kw + TOL
        assert abs(pv_kw - a.curtail_kw + a.discharge_kw - a.charge_kw) <= (
            SITE.inverter_ac_limit_kw + TOL
        )
        end_kwh = (
            stored_kwh
            + (
                a.charge_kw * BATTERY.charge_efficiency
                - a.discharge_kw / BATTERY.discharge_efficiency
            )
            * SLOT_H
        )
        assert BATTERY.reserve_kwh - TOL <= end_kwh <= BATTERY.max_kwh + TOL
        if export_p < 0:
            assert a.export_kw == 0


def test_self_use_follows_the_actual_load() -> None:
    """Self use covers the actual deficit from the battery and imports nothing while it can."""
    a = apply_decision(
        Decision(Mode.SELF_USE),
        stored_kwh=8.0,
        load_kw=1.7,
        pv_kw=0.2,
        import_p_per_kwh=30.0,
        export_p_per_kwh=10.0,
        battery=BATTERY,
        site=SITE,
    )
    assert a.discharge_kw == pytest.approx(1.5)
    assert a.import_kw == pytest.approx(0.0)
    assert a.cost_p == pytest.approx(0.0)


def test_no_battery_run_costs_what_the_optimizer_says() -> None:
    """The simulation without a battery matches the optimizer's own no-battery cost."""
    result = run("none", None, TIMELINE, BATTERY, SITE, 50.0)
    n = len(TIMELINE)
    inputs = Inputs(
        starts=tuple(TIMELINE.slot_start(t) for t in range(n)),
        durations_h=(SLOT_H,) * n,
        import_price_p_per_kwh=tuple(TIMELINE.import_p_per_kwh),
        export_price_p_per_kwh=tuple(TIMELINE.export_p_per_kwh),
        pv_kw=tuple(TIMELINE.pv_kw),
        load_kw=tuple(TIMELINE.load_kw),
        initial_soc_pct=50.0,
    )
    assert result.cost_p == pytest.approx(no_battery_cost_p(inputs, SITE))
    assert result.throughput_kwh == 0


def test_planner_inputs_hold_only_what_was_known() -> None:
    """Published prices are the real ones; beyond publication they are flagged forecasts."""
    t = 4 * 48 + 10  # 05:00 UTC: prices known up to 22:00 UTC (23:00 BST)
    known_end = TIMELINE.index_at(published_until(TIMELINE.slot_start(t)))
    published = planner_inputs(TIMELINE, t, 5.0, BATTERY, PlannerOptions())
    assert len(published) == known_end - t
    assert published.import_price_p_per_kwh == tuple(
        TIMELINE.import_p_per_kwh[t:known_end]
    )
    assert not any(published.price_is_forecast)
    longer = planner_inputs(
        TIMELINE, t, 5.0, BATTERY, PlannerOptions(min_horizon_slots=60)
    )
    assert len(longer) == 60
    assert longer.price_is_forecast == tuple(k >= known_end - t for k in range(60))
    assert longer.starts[-1] == TIMELINE.slot_start(t) + 59 * timedelta(minutes=30)
    # Realistic load comes from the past; perfect forecasts are the actual values.
    perfect = planner_inputs(
        TIMELINE, t, 5.0, BATTERY, PlannerOptions(forecasts=Forecasts.PERFECT)
    )
    assert perfect.load_kw == tuple(TIMELINE.load_kw[t:known_end])
    assert published.load_kw != perfect.load_kw


def test_strategies_rank_as_they_must() -> None:
    """Perfect foresight is the floor; the planner with actual load and PV beats self use."""
    timeline = _short(3)
    none = run("none", None, timeline, BATTERY, SITE, 10.0)
    selfuse = run("self use", self_use_strategy(), timeline, BATTERY, SITE, 10.0)
    rules = run(
        "rules",
        rules_strategy(timeline, BATTERY, SITE, RuleSettings()),
        timeline,
        BATTERY,
        SITE,
        10.0,
    )
    planner = PlannerStrategy(
        timeline, BATTERY, SITE, PlannerOptions(forecasts=Forecasts.PERFECT)
    )
    ours = run("ours", planner, timeline, BATTERY, SITE, 10.0)
    perfect = perfect_foresight(timeline, BATTERY, SITE, 10.0)
    assert perfect.cost_p <= ours.cost_p + TOL
    assert perfect.cost_p <= rules.cost_p + TOL
    assert ours.cost_p < selfuse.cost_p < none.cost_p
    assert planner.fallbacks == 0
    assert ours.replans == len(timeline)
    assert len(ours.stored_kwh) == len(perfect.stored_kwh) == len(timeline)


def test_perfect_foresight_chunks_match_one_lp() -> None:
    """Chunks with a day of overlap cost what one LP over the whole period costs."""
    timeline = _short(4)
    whole = perfect_foresight(timeline, BATTERY, SITE, 10.0, chunk_days=4)
    chunked = perfect_foresight(
        timeline, BATTERY, SITE, 10.0, chunk_days=1, overlap_days=1
    )
    assert whole.replans == 1
    assert chunked.replans == 4
    assert chunked.cost_p == pytest.approx(whole.cost_p, abs=1.0)
