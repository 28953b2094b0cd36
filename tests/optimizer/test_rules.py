"""Tests for the reactive rule-based planner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.battery_optimizer.optimizer.model import (
    Battery,
    Inputs,
    Mode,
    PlanStatus,
    RuleSettings,
    Site,
    terminal_value_p_per_kwh,
)
from custom_components.battery_optimizer.optimizer.rules import plan_rules

START = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
SETTINGS = RuleSettings(cheap_price_p_per_kwh=10.0, expensive_price_p_per_kwh=25.0)
# Lossless battery: 10 kWh, 10-100 %, 3 kW both ways; energies are easy to check.
LOSSLESS = Battery(
    capacity_kwh=10.0,
    charge_limit_kw=3.0,
    discharge_limit_kw=3.0,
    charge_efficiency=1.0,
    discharge_efficiency=1.0,
    reserve_soc_pct=10.0,
    max_soc_pct=100.0,
)
SITE = Site(import_limit_kw=15.0, export_limit_kw=3.68, inverter_ac_limit_kw=5.0)


def make_inputs(
    import_p: list[float],
    *,
    export_p: list[float] | None = None,
    pv_kw: list[float] | None = None,
    load_kw: list[float] | None = None,
    soc_pct: float = 50.0,
    terminal_p: float | None = None,
) -> Inputs:
    n = len(import_p)
    return Inputs(
        starts=tuple(START + timedelta(minutes=30 * t) for t in range(n)),
        durations_h=(0.5,) * n,
        import_price_p_per_kwh=tuple(import_p),
        export_price_p_per_kwh=tuple(export_p or [5.0] * n),
        pv_kw=tuple(pv_kw or [0.0] * n),
        load_kw=tuple(load_kw or [0.0] * n),
        initial_soc_pct=soc_pct,
        terminal_value_p_per_kwh=terminal_p,
    )


def test_cheap_price_charges_from_grid_at_the_limit() -> None:
    inputs = make_inputs([4.2], load_kw=[0.5])
    plan = plan_rules(inputs, LOSSLESS, SITE, SETTINGS)
    slot = plan.slots[0]
    assert plan.status is PlanStatus.RULES
    assert slot.mode is Mode.FORCE_CHARGE
    assert slot.charge_kw == pytest.approx(3.0)
    assert slot.import_kw == pytest.approx(3.5)
    assert slot.discharge_kw == 0
    assert slot.soc_end_kwh == pytest.approx(6.5)
    assert slot.soc_end_pct == pytest.approx(65.0)
    assert slot.charge_current_a == pytest.approx(LOSSLESS.current_a(3.0))
    assert slot.cost_p == pytest.approx(4.2 * 3.5 * 0.5)
    assert slot.reason == (
        "Import price 4.2p is at or below the cheap threshold 10.0p: "
        "charge from the grid"
    )


def test_charging_stops_exactly_at_max_soc_then_holds() -> None:
    battery = Battery(
        capacity_kwh=10.0,
        charge_limit_kw=3.0,
        discharge_limit_kw=3.0,
        charge_efficiency=0.9,
        discharge_efficiency=0.9,
        max_soc_pct=90.0,
    )
    plan = plan_rules(make_inputs([5.0] * 4, soc_pct=70.0), battery, SITE, SETTINGS)
    first, second, third, _ = plan.slots
    assert first.charge_kw == pytest.approx(3.0)
    assert first.soc_end_kwh == pytest.approx(7.0 + 3.0 * 0.9 * 0.5)
    # Only 0.65 kWh of room is left: the charge power shrinks to fill it exactly.
    assert second.charge_kw == pytest.approx(0.65 / (0.9 * 0.5))
    assert second.soc_end_pct == pytest.approx(90.0)
    assert third.mode is Mode.HOLD
    assert third.charge_kw == 0
    assert third.discharge_kw == 0
    assert "cannot take more" in third.reason


def test_grid_charging_respects_import_and_inverter_limits() -> None:
    narrow_site = Site(
        import_limit_kw=2.0, export_limit_kw=3.68, inverter_ac_limit_kw=5.0
    )
    plan = plan_rules(
        make_inputs([5.0], load_kw=[1.5]), LOSSLESS, narrow_site, SETTINGS
    )
    assert plan.slots[0].import_kw == pytest.approx(2.0)
    assert plan.slots[0].charge_kw == pytest.approx(0.5)

    small_inverter = Site(
        import_limit_kw=15.0, export_limit_kw=3.68, inverter_ac_limit_kw=1.0
    )
    plan = plan_rules(make_inputs([5.0]), LOSSLESS, small_inverter, SETTINGS)
    assert plan.slots[0].charge_kw == pytest.approx(1.0)


def test_expensive_price_discharges_and_exports_down_to_reserve() -> None:
    inputs = make_inputs(
        [30.0] * 4, export_p=[15.0] * 4, load_kw=[1.0] * 4, soc_pct=40.0
    )
    plan = plan_rules(inputs, LOSSLESS, SITE, SETTINGS)
    first, second, third, fourth = plan.slots
    assert first.mode is Mode.FORCE_DISCHARGE
    assert first.discharge_kw == pytest.approx(3.0)
    assert first.export_kw == pytest.approx(2.0)
    assert first.import_kw == 0
    assert "expensive threshold 25.0p" in first.reason
    # 4 kWh down to the 1 kWh reserve: 1.5 + 1.5 then 0 kWh left above it.
    assert second.soc_end_kwh == pytest.approx(1.0)
    for slot in (third, fourth):
        assert slot.discharge_kw == 0
        assert slot.import_kw == pytest.approx(1.0)
        assert slot.soc_end_kwh == pytest.approx(1.0)
    assert min(s.soc_end_pct for s in plan.slots) >= 10.0 - 1e-9


def test_discharge_is_held_to_the_export_limit() -> None:
    site = Site(import_limit_kw=15.0, export_limit_kw=1.0, inverter_ac_limit_kw=5.0)
    plan = plan_rules(make_inputs([30.0], load_kw=[0.5]), LOSSLESS, site, SETTINGS)
    assert plan.slots[0].discharge_kw == pytest.approx(1.5)
    assert plan.slots[0].export_kw == pytest.approx(1.0)


def test_self_use_covers_load_then_absorbs_and_exports_surplus() -> None:
    inputs = make_inputs(
        [15.0, 15.0, 15.0], pv_kw=[0.0, 4.0, 9.0], load_kw=[1.2, 0.5, 0.5]
    )
    plan = plan_rules(inputs, LOSSLESS, SITE, SETTINGS)
    night, sunny, very_sunny = plan.slots
    assert night.mode is Mode.SELF_USE
    assert night.discharge_kw == pytest.approx(1.2)
    assert night.import_kw == 0
    assert sunny.charge_kw == pytest.approx(3.0)
    assert sunny.export_kw == pytest.approx(0.5)
    # 9 kW of PV: 3 kW into the battery, 5 kW through the inverter, 0.5 kW used,
    # 3.68 kW exported, the rest curtailed.
    assert very_sunny.charge_kw == pytest.approx(3.0)
    assert very_sunny.export_kw == pytest.approx(3.68)
    assert very_sunny.curtail_kw == pytest.approx(9.0 - 3.0 - 0.5 - 3.68)


def test_negative_export_price_curtails_instead_of_exporting() -> None:
    inputs = make_inputs(
        [12.0, 30.0],
        export_p=[-2.0, -1.0],
        pv_kw=[6.0, 6.0],
        load_kw=[0.5, 0.5],
        soc_pct=95.0,
    )
    plan = plan_rules(inputs, LOSSLESS, SITE, SETTINGS)
    for slot in plan.slots:
        assert slot.export_kw == 0
        assert slot.import_kw == 0
        assert slot.pv_kw - slot.curtail_kw + slot.discharge_kw == pytest.approx(
            slot.load_kw + slot.charge_kw
        )
    assert plan.slots[0].charge_kw == pytest.approx(1.0)
    assert plan.slots[0].curtail_kw == pytest.approx(4.5)
    assert "negative" in plan.slots[0].reason


def test_start_below_reserve_never_discharges_and_recovers() -> None:
    inputs = make_inputs(
        [30.0, 15.0, 15.0, 5.0],
        pv_kw=[0.0, 0.0, 2.0, 0.0],
        load_kw=[1.0, 1.0, 0.5, 0.5],
        soc_pct=4.0,
    )
    plan = plan_rules(inputs, LOSSLESS, SITE, SETTINGS)
    expensive, between, sunny, cheap = plan.slots
    assert expensive.mode is Mode.SELF_USE
    assert "reserve" in expensive.reason
    assert expensive.discharge_kw == 0
    assert between.discharge_kw == 0
    assert between.soc_end_kwh == pytest.approx(0.4)
    assert sunny.charge_kw == pytest.approx(1.5)
    assert cheap.charge_kw == pytest.approx(3.0)
    socs = [plan.initial_soc_kwh] + [s.soc_end_kwh for s in plan.slots]
    assert socs == sorted(socs)


def test_start_above_max_does_not_charge_but_may_discharge() -> None:
    battery = Battery(
        capacity_kwh=10.0,
        charge_limit_kw=3.0,
        discharge_limit_kw=3.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        max_soc_pct=80.0,
    )
    inputs = make_inputs(
        [5.0, 15.0], pv_kw=[0.0, 3.0], load_kw=[1.0, 0.0], soc_pct=95.0
    )
    plan = plan_rules(inputs, battery, SITE, SETTINGS)
    cheap, sunny = plan.slots
    assert cheap.mode is Mode.HOLD
    assert cheap.charge_kw == 0
    assert cheap.import_kw == pytest.approx(1.0)
    assert sunny.charge_kw == 0
    assert sunny.export_kw == pytest.approx(3.0)
    assert sunny.soc_end_pct == pytest.approx(95.0)


def test_efficiencies_apply_to_the_stored_energy() -> None:
    battery = Battery(
        capacity_kwh=10.0,
        charge_limit_kw=2.0,
        discharge_limit_kw=2.0,
        charge_efficiency=0.9,
        discharge_efficiency=0.8,
    )
    inputs = make_inputs([5.0, 30.0], load_kw=[0.0, 2.0])
    plan = plan_rules(inputs, battery, SITE, SETTINGS)
    assert plan.slots[0].soc_end_kwh == pytest.approx(5.0 + 2.0 * 0.9 * 0.5)
    assert plan.slots[1].soc_end_kwh == pytest.approx(5.9 - 2.0 * 0.5 / 0.8)


def test_objective_is_cost_plus_cycling_minus_terminal_value() -> None:
    battery = Battery(
        capacity_kwh=10.0,
        charge_limit_kw=3.0,
        discharge_limit_kw=3.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        cycle_cost_p_per_kwh=2.0,
    )
    inputs = make_inputs([5.0, 30.0, 15.0], load_kw=[1.0, 1.0, 1.0])
    plan = plan_rules(inputs, battery, SITE, SETTINGS)
    throughput_kwh = sum(
        (s.charge_kw + s.discharge_kw) * s.duration_h for s in plan.slots
    )
    value_p = 0.8 * (5.0 + 30.0 + 15.0) / 3
    assert plan.terminal_value_p_per_kwh == pytest.approx(value_p)
    assert plan.cost_p == pytest.approx(sum(s.cost_p for s in plan.slots))
    assert plan.objective_p == pytest.approx(
        plan.cost_p + 2.0 * throughput_kwh - value_p * plan.slots[-1].soc_end_kwh
    )


@pytest.mark.parametrize(
    ("prices", "given_p", "expected_p"),
    [
        ([10.0, 20.0], None, 12.0),
        ([-10.0, -20.0], None, 0.0),
        ([10.0, 20.0], 7.5, 7.5),
        ([10.0, 20.0], -3.0, 0.0),
    ],
)
def test_terminal_value(
    prices: list[float], given_p: float | None, expected_p: float
) -> None:
    assert terminal_value_p_per_kwh(
        make_inputs(prices, terminal_p=given_p)
    ) == pytest.approx(expected_p)
