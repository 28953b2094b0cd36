"""Tests for slot modes and reasons, binding limits and KPIs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import math
from zoneinfo import ZoneInfo

import pytest

from custom_components.battery_optimizer.optimizer import (
    Battery,
    Inputs,
    Mode,
    Plan,
    PlanStatus,
    Site,
    Slot,
    compute_kpis,
    no_battery_cost_p,
)
from custom_components.battery_optimizer.optimizer.constraints import (
    binding_constraints,
)
from custom_components.battery_optimizer.optimizer.explain import (
    Flows,
    build_slots,
    classify_mode,
)

START = datetime(2023, 6, 1, 0, 0, tzinfo=UTC)  # a Thursday
LONDON = ZoneInfo("Europe/London")
# Lossless, so stored energy is easy to follow by hand.
BATTERY = Battery(
    capacity_kwh=10.0,
    charge_limit_kw=3.0,
    discharge_limit_kw=3.0,
    charge_efficiency=1.0,
    discharge_efficiency=1.0,
    reserve_soc_pct=10.0,
)
SITE = Site(import_limit_kw=15.0, export_limit_kw=3.68, inverter_ac_limit_kw=5.0)


def make_inputs(
    import_p: list[float],
    *,
    export_p: list[float] | None = None,
    pv_kw: list[float] | None = None,
    load_kw: list[float] | None = None,
    start: datetime = START,
) -> Inputs:
    n = len(import_p)
    return Inputs(
        starts=tuple(start + timedelta(minutes=30 * t) for t in range(n)),
        durations_h=(0.5,) * n,
        import_price_p_per_kwh=tuple(import_p),
        export_price_p_per_kwh=tuple(export_p or [5.0] * n),
        pv_kw=tuple(pv_kw or [0.0] * n),
        load_kw=tuple(load_kw or [0.0] * n),
        initial_soc_pct=50.0,
    )


def make_slot(t: int, **fields: float | Mode) -> Slot:
    values: dict[str, object] = {
        "start": START + timedelta(minutes=30 * t),
        "end": START + timedelta(minutes=30 * (t + 1)),
        "duration_h": 0.5,
        "import_price_p_per_kwh": 20.0,
        "export_price_p_per_kwh": 5.0,
        "price_is_forecast": False,
        "load_kw": 0.0,
        "pv_kw": 0.0,
        "import_kw": 0.0,
        "export_kw": 0.0,
        "charge_kw": 0.0,
        "discharge_kw": 0.0,
        "curtail_kw": 0.0,
        "soc_end_kwh": 5.0,
        "soc_end_pct": 50.0,
        "mode": Mode.SELF_USE,
        "charge_current_a": 0.0,
        "cost_p": 0.0,
    }
    values.update(fields)
    return Slot(**values)  # type: ignore[arg-type]


def make_plan(slots: list[Slot], *, initial_kwh: float, value_p: float) -> Plan:
    return Plan(
        slots=tuple(slots),
        status=PlanStatus.OPTIMAL,
        objective_p=0.0,
        solve_ms=1.0,
        initial_soc_kwh=initial_kwh,
        terminal_value_p_per_kwh=value_p,
    )


def flows_for(n: int, stored_kwh: list[float], **series: list[float]) -> Flows:
    zero = [0.0] * n
    return Flows(
        import_kw=series.get("import_kw", zero),
        export_kw=series.get("export_kw", zero),
        charge_kw=series.get("charge_kw", zero),
        discharge_kw=series.get("discharge_kw", zero),
        curtail_kw=series.get("curtail_kw", zero),
        stored_kwh=stored_kwh,
    )


def test_kpis_on_a_hand_checked_plan() -> None:
    inputs = make_inputs(
        [10.0, 30.0], export_p=[5.0, 4.0], pv_kw=[0.0, 2.0], load_kw=[1.0, 1.0]
    )
    # Slot 0 imports 3 kW, 2 of them into the battery; slot 1 exports 1 kW of PV.
    plan = make_plan(
        [
            make_slot(
                0,
                import_price_p_per_kwh=10.0,
                load_kw=1.0,
                import_kw=3.0,
                charge_kw=2.0,
                soc_end_kwh=6.0,
                soc_end_pct=60.0,
                cost_p=15.0,
            ),
            make_slot(
                1,
                import_price_p_per_kwh=30.0,
                export_price_p_per_kwh=4.0,
                load_kw=1.0,
                pv_kw=2.0,
                export_kw=1.0,
                soc_end_kwh=6.0,
                soc_end_pct=60.0,
                cost_p=-2.0,
            ),
        ],
        initial_kwh=5.0,
        value_p=12.0,
    )
    rules = make_plan(
        [
            make_slot(0, import_kw=1.0, load_kw=1.0, cost_p=5.0),
            make_slot(1, export_kw=1.0, pv_kw=2.0, load_kw=1.0, cost_p=-2.0),
        ],
        initial_kwh=5.0,
        value_p=12.0,
    )

    kpis = compute_kpis(plan, inputs, BATTERY, SITE, rules)

    assert kpis.cost_p == pytest.approx(13.0)
    assert kpis.import_kwh == pytest.approx(1.5)
    assert kpis.export_kwh == pytest.approx(0.5)
    assert kpis.peak_import_kw == pytest.approx(3.0)
    assert kpis.throughput_kwh == pytest.approx(1.0)
    assert kpis.equivalent_cycles == pytest.approx(0.05)
    assert kpis.self_consumption_pct == pytest.approx(50.0)
    assert kpis.average_soc_pct == pytest.approx(60.0)
    # Without a battery: 1 kW at 10p for 0.5 h, then 1 kW exported at 4p.
    assert kpis.cost_no_battery_p == pytest.approx(5.0 - 2.0)
    assert kpis.cost_rules_p == pytest.approx(3.0)
    # The plan also leaves 1 kWh more in the battery, worth 12p.
    assert kpis.savings_vs_no_battery_p == pytest.approx(3.0 - (13.0 - 12.0))
    assert kpis.savings_vs_rules_p == pytest.approx(3.0 - (13.0 - 12.0))


def test_no_battery_cost_caps_export_and_skips_paid_export() -> None:
    inputs = make_inputs(
        [20.0, 20.0, 20.0],
        export_p=[10.0, -2.0, 10.0],
        pv_kw=[6.0, 3.0, 0.5],
        load_kw=[0.0, 0.0, 2.0],
    )
    # 6 kW PV passes a 5 kW inverter; 3.68 kW of it is exported at 10p.
    # Export paying -2p is curtailed. The last slot imports 1.5 kW at 20p.
    expected = -10.0 * 3.68 * 0.5 + 0.0 + 20.0 * 1.5 * 0.5
    assert no_battery_cost_p(inputs, SITE) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("flows", "expected"),
    [
        ({"import_kw": 3.0, "charge_kw": 3.0}, Mode.FORCE_CHARGE),
        ({"discharge_kw": 3.0, "export_kw": 2.5}, Mode.FORCE_DISCHARGE),
        ({"import_kw": 0.5}, Mode.HOLD),
        ({"import_kw": 0.5, "start_kwh": 1.0}, Mode.SELF_USE),
        ({"export_kw": 2.0, "surplus_pv_kw": 2.0}, Mode.FEED_IN_FIRST),
        ({"export_kw": 2.0, "surplus_pv_kw": 2.0, "end_kwh": 10.0}, Mode.SELF_USE),
        ({"discharge_kw": 1.0}, Mode.SELF_USE),
        ({"charge_kw": 1.0, "surplus_pv_kw": 1.0}, Mode.SELF_USE),
    ],
)
def test_classify_mode(flows: dict[str, float], expected: Mode) -> None:
    args: dict[str, float] = {
        "import_kw": 0.0,
        "export_kw": 0.0,
        "charge_kw": 0.0,
        "discharge_kw": 0.0,
        "surplus_pv_kw": 0.0,
        "start_kwh": 5.0,
        "end_kwh": 5.0,
    }
    args.update(flows)
    assert classify_mode(battery=BATTERY, **args) is expected


def test_charge_reason_names_the_best_discharge_before_the_next_charge() -> None:
    # charge 5p | use at 18p | hold at 15p | use at 35p | charge 5p | use at 20p
    inputs = make_inputs(
        [5.0, 18.0, 15.0, 35.0, 5.0, 20.0], load_kw=[0.0, 2.0, 1.0, 2.0, 0.0, 2.0]
    )
    flows = flows_for(
        6,
        [2.0, 3.5, 2.5, 2.5, 1.5, 3.0, 2.0],
        import_kw=[3.0, 0.0, 1.0, 0.0, 3.0, 0.0],
        charge_kw=[3.0, 0.0, 0.0, 0.0, 3.0, 0.0],
        discharge_kw=[0.0, 2.0, 0.0, 2.0, 0.0, 2.0],
    )
    slots = build_slots(inputs, BATTERY, flows, 12.0, UTC)

    assert [s.mode for s in slots] == [
        Mode.FORCE_CHARGE,
        Mode.SELF_USE,
        Mode.HOLD,
        Mode.SELF_USE,
        Mode.FORCE_CHARGE,
        Mode.SELF_USE,
    ]
    assert slots[0].reason == (
        "Charge from the grid at 5.0p: the energy covers the 01:30-02:00 peak at 35.0p"
    )
    assert slots[1].reason == "Battery covers the house instead of importing at 18.0p"
    assert slots[2].reason == (
        "Hold the battery at 25%: the energy covers the 01:30-02:00 peak at 35.0p; "
        "the grid costs 15.0p now"
    )
    assert slots[4].reason == (
        "Charge from the grid at 5.0p: the energy covers the 02:30-03:00 peak at 20.0p"
    )
    assert slots[0].cost_p == pytest.approx(5.0 * 3.0 * 0.5)
    assert slots[0].charge_current_a == round(BATTERY.current_a(3.0), 1)
    assert slots[0].soc_end_pct == pytest.approx(35.0)


def test_reasons_for_selling_and_end_of_plan_value() -> None:
    inputs = make_inputs([30.0, 5.0, 5.0], export_p=[25.0, 2.0, 2.0])
    flows = flows_for(
        3,
        [5.0, 3.5, 5.0, 6.5],
        export_kw=[3.0, 0.0, 0.0],
        discharge_kw=[3.0, 0.0, 0.0],
        import_kw=[0.0, 3.0, 3.0],
        charge_kw=[0.0, 3.0, 3.0],
    )
    slots = build_slots(inputs, BATTERY, flows, 12.0, UTC)

    assert slots[0].mode is Mode.FORCE_DISCHARGE
    assert (
        slots[0].reason
        == "Sell battery energy at 25.0p: it is refilled at 5.0p from 00:30"
    )
    assert slots[2].reason == (
        "Charge from the grid at 5.0p: stored energy is worth 12.0p at the end of the plan"
    )


def test_build_slots_rounds_away_solver_noise() -> None:
    inputs = make_inputs([10.0, 10.0])
    flows = flows_for(
        2,
        [5.0, 5.0, 5.0000000001],
        import_kw=[-1e-9, 1.23456789],
        discharge_kw=[1e-12, 0.0],
        charge_kw=[0.0, 2e-10],
    )
    slots = build_slots(inputs, BATTERY, flows, 8.0, UTC)

    assert slots[0].import_kw == 0.0
    assert math.copysign(1.0, slots[0].import_kw) == 1.0
    assert slots[1].import_kw == 1.2346
    assert slots[0].discharge_kw == 0.0
    assert slots[1].soc_end_kwh == 5.0
    assert slots[0].mode is Mode.SELF_USE


def test_binding_constraints_are_grouped_in_display_time() -> None:
    full = {"soc_end_kwh": 10.0, "soc_end_pct": 100.0}
    slots = [
        make_slot(22),
        make_slot(23, export_kw=3.68),
        make_slot(24, export_kw=3.68, **full),
        make_slot(25, **full),
        make_slot(46, charge_kw=3.0),
        make_slot(47, charge_kw=3.0),
    ]
    limits = binding_constraints(slots, BATTERY, SITE, LONDON)
    # 11:30 UTC is 12:30 in London in June; slot 46 starts after midnight there.
    assert limits == (
        "export limit 12:30-13:30",
        "battery full 13:00-14:00",
        "charge limit Fri 00:00-01:00",
    )


def test_binding_constraints_ignore_zero_limits_and_slack() -> None:
    site = replace(SITE, export_limit_kw=0.0)
    slots = [make_slot(0), make_slot(1, discharge_kw=1.0)]
    assert binding_constraints(slots, BATTERY, site, UTC) == ()
    assert binding_constraints([], BATTERY, site, UTC) == ()
