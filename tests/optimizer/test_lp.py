"""Tests for the LP planner and the optimize() entry point."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest

from custom_components.battery_optimizer.optimizer import (
    Battery,
    Inputs,
    InvalidInputError,
    Mode,
    Plan,
    PlanStatus,
    Site,
    SolverError,
    lp,
    optimize,
    solve_lp,
)

AGILE_7D = Path(__file__).parent.parent / "fixtures" / "agile_2022-12-26_7d.csv"
START = datetime(2023, 6, 1, 0, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
TOL = 1e-6
BATTERY = Battery(
    capacity_kwh=10.0,
    charge_limit_kw=3.0,
    discharge_limit_kw=3.0,
    charge_efficiency=0.95,
    discharge_efficiency=0.95,
    reserve_soc_pct=10.0,
    max_soc_pct=100.0,
    cycle_cost_p_per_kwh=1.0,
)
SITE = Site(import_limit_kw=15.0, export_limit_kw=3.68, inverter_ac_limit_kw=5.0)


def make_inputs(
    import_p: list[float],
    *,
    export_p: list[float] | None = None,
    pv_kw: list[float] | None = None,
    load_kw: list[float] | None = None,
    soc_pct: float = 50.0,
    start: datetime = START,
    durations_h: list[float] | None = None,
    terminal_p: float | None = None,
) -> Inputs:
    n = len(import_p)
    hours = durations_h or [0.5] * n
    starts = [start]
    for h in hours[:-1]:
        starts.append(starts[-1] + timedelta(hours=h))
    return Inputs(
        starts=tuple(starts),
        durations_h=tuple(hours),
        import_price_p_per_kwh=tuple(import_p),
        export_price_p_per_kwh=tuple(export_p or [5.0] * n),
        pv_kw=tuple(pv_kw or [0.0] * n),
        load_kw=tuple(load_kw or [0.3] * n),
        initial_soc_pct=soc_pct,
        terminal_value_p_per_kwh=terminal_p,
    )


def agile_inputs(first_slot: int, n: int, *, soc_pct: float = 50.0) -> Inputs:
    """Real Agile import/export prices from the fixture, with a winter house."""
    with AGILE_7D.open() as handle:
        rows = list(csv.DictReader(handle))[first_slot : first_slot + n]
    starts = [datetime.fromisoformat(row["start"]) for row in rows]
    return Inputs(
        starts=tuple(starts),
        durations_h=(0.5,) * n,
        import_price_p_per_kwh=tuple(float(r["import_p_per_kwh"]) for r in rows),
        export_price_p_per_kwh=tuple(float(r["export_p_per_kwh"]) for r in rows),
        pv_kw=tuple(1.5 if 10 <= s.hour < 14 else 0.0 for s in starts),
        load_kw=tuple(2.0 if 16 <= s.hour < 20 else 0.4 for s in starts),
        initial_soc_pct=soc_pct,
    )


def energy_kwh(plan: Plan, flow: str) -> float:
    return sum(float(getattr(slot, flow)) * slot.duration_h for slot in plan.slots)


def assert_exclusive(plan: Plan) -> None:
    for slot in plan.slots:
        assert not (slot.charge_kw > TOL and slot.discharge_kw > TOL), slot
        assert not (slot.import_kw > TOL and slot.export_kw > TOL), slot


def count_exclusivity_rounds(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record each exclusivity check, to show a case really needs binaries."""
    rounds: list[bool] = []
    original = lp._add_exclusivity

    def spy(*args: object) -> bool:
        added = original(*args)  # type: ignore[arg-type]
        rounds.append(added)
        return added

    monkeypatch.setattr(lp, "_add_exclusivity", spy)
    return rounds


def test_negative_price_day_is_paid_to_charge_without_simultaneous_flows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 2022-12-29: import prices down to -8.78p, export at 0p overnight.
    rounds = count_exclusivity_rounds(monkeypatch)
    inputs = agile_inputs(3 * 48, 48)
    plan = optimize(inputs, BATTERY, SITE)

    assert plan.status is PlanStatus.OPTIMAL
    assert rounds[0], "the pure LP should import and export at once on this day"
    assert_exclusive(plan)
    paid = [s for s in plan.slots if s.import_price_p_per_kwh < 0 and s.charge_kw > TOL]
    assert paid, "the battery should charge while importing is paid"
    assert all(s.mode is Mode.FORCE_CHARGE for s in paid)
    assert any("importing is paid" in s.reason for s in paid)
    assert any(s.cost_p < 0 for s in paid)


def test_negative_price_burning_energy_needs_charge_discharge_binaries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A full battery with nowhere to send energy: the pure LP would charge and
    # discharge at once to lose energy and make room for the paid slots.
    rounds = count_exclusivity_rounds(monkeypatch)
    site = Site(import_limit_kw=15.0, export_limit_kw=0.0, inverter_ac_limit_kw=5.0)
    inputs = make_inputs(
        [-20.0] * 6, export_p=[0.0] * 6, load_kw=[0.0] * 6, soc_pct=95.0
    )
    plan = optimize(inputs, BATTERY, site)

    assert plan.status is PlanStatus.OPTIMAL
    assert rounds[0]
    assert_exclusive(plan)
    assert plan.slots[-1].soc_end_pct == pytest.approx(100.0, abs=1e-3)


def test_flat_price_day_does_not_cycle() -> None:
    n = 48
    inputs = make_inputs([20.0] * n, export_p=[5.0] * n, load_kw=[0.5] * n)
    plan = optimize(inputs, BATTERY, SITE)

    assert plan.status is PlanStatus.OPTIMAL
    # Buying energy to sell or use later at the same price only loses.
    assert energy_kwh(plan, "charge_kw") == pytest.approx(0.0, abs=1e-6)
    assert energy_kwh(plan, "export_kw") == pytest.approx(0.0, abs=1e-6)

    # Worth exactly the price at the end, stored energy is best left alone.
    held = optimize(
        make_inputs([20.0] * n, load_kw=[0.5] * n, terminal_p=20.0), BATTERY, SITE
    )
    throughput = energy_kwh(held, "charge_kw") + energy_kwh(held, "discharge_kw")
    assert throughput == pytest.approx(0.0, abs=1e-6)


def test_export_limit_day_with_large_pv() -> None:
    n = 48
    pv = [max(0.0, 9.0 - abs(t - 24) * 0.8) for t in range(n)]
    site = Site(import_limit_kw=15.0, export_limit_kw=3.68, inverter_ac_limit_kw=10.0)
    inputs = make_inputs([25.0] * n, export_p=[15.0] * n, pv_kw=pv, soc_pct=20.0)
    plan = optimize(inputs, BATTERY, site)

    assert plan.status is PlanStatus.OPTIMAL
    assert max(s.export_kw for s in plan.slots) <= site.export_limit_kw + TOL
    curtailed = [s for s in plan.slots if s.curtail_kw > TOL]
    assert curtailed, "9 kW of PV cannot all go to a 3.68 kW export and 3 kW charge"
    for slot in curtailed:
        # Forced: export is full and the battery takes all it can.
        assert slot.export_kw == pytest.approx(site.export_limit_kw, abs=1e-3)
        assert (
            slot.charge_kw == pytest.approx(BATTERY.charge_limit_kw, abs=1e-3)
            or slot.soc_end_pct >= 100.0 - 1e-3
        )
        # Curtailment never goes beyond what the limits force.
        forced = slot.pv_kw - slot.load_kw - site.export_limit_kw - slot.charge_kw
        assert slot.curtail_kw == pytest.approx(forced, abs=1e-3)
    assert any(c.startswith("export limit") for c in plan.binding_constraints)


def test_start_below_reserve_climbs_back() -> None:
    n = 16
    inputs = make_inputs([30.0] * n, soc_pct=2.0)
    plan = optimize(inputs, BATTERY, SITE)

    assert plan.status is PlanStatus.OPTIMAL
    first = plan.slots[0]
    assert first.mode is Mode.FORCE_CHARGE
    assert "reserve" in first.reason
    # 0.8 kWh short at 3 kW x 0.95 per hour: back within the first slot.
    assert first.soc_end_pct >= BATTERY.reserve_soc_pct - 1e-3
    assert all(s.soc_end_pct >= BATTERY.reserve_soc_pct - 1e-3 for s in plan.slots)


def test_start_above_max_comes_down() -> None:
    battery = Battery(
        capacity_kwh=10.0, charge_limit_kw=3.0, discharge_limit_kw=3.0, max_soc_pct=80.0
    )
    plan = optimize(make_inputs([30.0] * 8, soc_pct=95.0), battery, SITE)

    assert plan.status is PlanStatus.OPTIMAL
    assert plan.slots[0].discharge_kw > 0
    assert plan.slots[-1].soc_end_pct <= 80.0 + 1e-3


def test_seven_day_horizon_solves() -> None:
    inputs = agile_inputs(0, 336)
    plan = optimize(inputs, BATTERY, SITE, time_limit_s=30.0)

    assert plan.status is PlanStatus.OPTIMAL
    assert len(plan.slots) == 336
    assert all(
        BATTERY.reserve_soc_pct - 1e-3 <= s.soc_end_pct <= 100.0 + 1e-3
        for s in plan.slots
    )
    assert_exclusive(plan)


def cheap_night_day() -> Inputs:
    # 00:00-06:00 at 5p, day at 18p, 17:00-19:30 at 35p (London summer time + 1 h).
    prices = [5.0] * 12 + [18.0] * 22 + [35.0] * 5 + [18.0] * 9
    load = [0.3] * 34 + [2.5] * 5 + [0.3] * 9
    return make_inputs(prices, load_kw=load, soc_pct=10.0)


def test_cheap_night_charges_for_the_evening_peak() -> None:
    plan = optimize(cheap_night_day(), BATTERY, SITE, display_tz=LONDON)

    assert plan.status is PlanStatus.OPTIMAL
    night = plan.slots[:12]
    charging = [s for s in night if s.mode is Mode.FORCE_CHARGE]
    assert charging
    assert energy_kwh(plan, "charge_kw") >= 5.0
    for slot in charging:
        assert slot.charge_current_a == round(BATTERY.current_a(slot.charge_kw), 1)
        assert slot.reason.startswith("Charge from the grid at 5.0p")
        assert "18:00-20:30 peak at 35.0p" in slot.reason
    peak = plan.slots[34:39]
    assert all(s.discharge_kw == pytest.approx(2.5, abs=1e-3) for s in peak)
    assert all(s.import_kw == pytest.approx(0.0, abs=1e-3) for s in peak)


def test_partial_first_slot_counts_its_real_length() -> None:
    start = START + timedelta(minutes=48)
    durations = [0.2] + [0.5] * 11
    prices = [2.0] + [30.0] * 11
    inputs = make_inputs(
        prices, durations_h=durations, load_kw=[0.0] * 12, start=start, soc_pct=10.0
    )
    plan = optimize(inputs, BATTERY, SITE)

    first = plan.slots[0]
    assert first.end == START + timedelta(hours=1)
    assert first.charge_kw == pytest.approx(BATTERY.charge_limit_kw, abs=1e-4)
    stored = 1.0 + BATTERY.charge_efficiency * first.charge_kw * 0.2
    assert first.soc_end_kwh == pytest.approx(stored, abs=1e-4)
    assert first.cost_p == pytest.approx(2.0 * first.import_kw * 0.2, abs=1e-4)
    assert plan.slots[1].start == first.end


def test_stored_energy_value_is_positive_and_matches_one_more_kwh() -> None:
    inputs = cheap_night_day()
    plan = solve_lp(inputs, BATTERY, SITE)
    assert plan.stored_energy_value_p_per_kwh is not None
    assert plan.stored_energy_value_p_per_kwh > 0

    # 1 % more SoC is 0.1 kWh more now: the objective falls by 0.1 x the value.
    richer = solve_lp(
        make_inputs(
            list(inputs.import_price_p_per_kwh),
            load_kw=list(inputs.load_kw),
            soc_pct=inputs.initial_soc_pct + 1.0,
        ),
        BATTERY,
        SITE,
    )
    saved_p = plan.objective_p - richer.objective_p
    assert saved_p == pytest.approx(0.1 * plan.stored_energy_value_p_per_kwh, rel=1e-3)


def test_terminal_value_defaults_to_share_of_mean_import_price() -> None:
    plan = solve_lp(make_inputs([10.0, 20.0, 30.0, 40.0]), BATTERY, SITE)
    assert plan.terminal_value_p_per_kwh == pytest.approx(0.8 * 25.0)
    given = solve_lp(make_inputs([10.0] * 4, terminal_p=3.5), BATTERY, SITE)
    assert given.terminal_value_p_per_kwh == 3.5


def test_flows_are_clean_numbers() -> None:
    plan = optimize(agile_inputs(48, 96), BATTERY, SITE)
    for slot in plan.slots:
        for flow in (
            slot.import_kw,
            slot.export_kw,
            slot.charge_kw,
            slot.discharge_kw,
            slot.curtail_kw,
        ):
            assert flow >= 0.0
            assert round(flow, 4) == flow
        assert slot.reason


def test_timeout_falls_back_to_rules() -> None:
    inputs = cheap_night_day()
    plan = optimize(inputs, BATTERY, SITE, time_limit_s=0.0)

    assert plan.status is PlanStatus.FALLBACK_TIMEOUT
    assert plan.is_fallback
    assert len(plan.slots) == len(inputs)
    assert "time" in plan.message


def test_solver_failure_falls_back_to_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulp

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("solver library missing")

    monkeypatch.setattr(pulp.HiGHS, "actualSolve", broken)
    inputs = cheap_night_day()
    with pytest.raises(SolverError) as caught:
        solve_lp(inputs, BATTERY, SITE)
    assert caught.value.status is PlanStatus.FALLBACK_ERROR

    plan = optimize(inputs, BATTERY, SITE)
    assert plan.status is PlanStatus.FALLBACK_ERROR
    assert len(plan.slots) == len(inputs)
    assert "solver library missing" in plan.message


def test_load_beyond_every_supply_is_infeasible() -> None:
    site = Site(import_limit_kw=5.0, export_limit_kw=3.68, inverter_ac_limit_kw=5.0)
    inputs = make_inputs([20.0] * 4, load_kw=[12.0] * 4)
    with pytest.raises(SolverError) as caught:
        solve_lp(inputs, BATTERY, site)
    assert caught.value.status is PlanStatus.FALLBACK_INFEASIBLE

    plan = optimize(inputs, BATTERY, site)
    assert plan.status is PlanStatus.FALLBACK_INFEASIBLE
    assert len(plan.slots) == 4


def test_invalid_inputs_raise_before_solving() -> None:
    with pytest.raises(InvalidInputError) as caught:
        optimize(make_inputs([10.0] * 4), Battery(0.0, 3.0, 3.0), SITE)
    assert caught.value.field == "capacity_kwh"
    with pytest.raises(InvalidInputError):
        optimize(make_inputs([10.0] * 4, soc_pct=120.0), BATTERY, SITE)


def test_importing_the_planner_does_not_import_pulp() -> None:
    code = (
        "import sys\n"
        "import custom_components.battery_optimizer.optimizer.lp\n"
        "import custom_components.battery_optimizer.optimizer\n"
        "assert 'pulp' not in sys.modules, 'pulp imported eagerly'\n"
    )
    root = Path(__file__).parent.parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_plan_names_binding_limits_in_display_time() -> None:
    plan = optimize(cheap_night_day(), BATTERY, SITE, display_tz=LONDON)
    assert any(c.startswith("charge limit 0") for c in plan.binding_constraints)
    assert "battery at reserve" in " ".join(plan.binding_constraints)
    assert plan.solve_ms > 0
    assert "valued at" in plan.message


@pytest.mark.parametrize(
    ("solver_status", "expected"),
    [
        ("TimeLimit", PlanStatus.FALLBACK_TIMEOUT),
        ("Infeasible", PlanStatus.FALLBACK_INFEASIBLE),
        ("NumericalError", PlanStatus.FALLBACK_ERROR),
    ],
)
def test_solver_outcomes_map_to_fallbacks(
    monkeypatch: pytest.MonkeyPatch, solver_status: str, expected: PlanStatus
) -> None:
    import pulp

    def stopped(*_: object, **__: object) -> pulp.LpSolveStats:
        status = pulp.LpSolveStatus[solver_status]
        return pulp.LpSolveStats(status=status, has_solution=False, time=2.0)

    monkeypatch.setattr(pulp.HiGHS, "actualSolve", stopped)
    with pytest.raises(SolverError) as caught:
        solve_lp(cheap_night_day(), BATTERY, SITE)
    assert caught.value.status is expected


def test_unexpected_error_falls_back_to_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from custom_components.battery_optimizer import optimizer

    def boom(*_: object, **__: object) -> Plan:
        raise ValueError("bad shape")

    monkeypatch.setattr(optimizer, "solve_lp", boom)
    plan = optimizer.optimize(cheap_night_day(), BATTERY, SITE)
    assert plan.status is PlanStatus.FALLBACK_ERROR
    assert "bad shape" in plan.message


def test_inverter_limit_caps_grid_charging() -> None:
    battery = replace(BATTERY, charge_limit_kw=8.0)
    plan = optimize(cheap_night_day(), battery, SITE)

    assert max(s.charge_kw for s in plan.slots) == pytest.approx(5.0, abs=1e-4)
    assert any(c.startswith("inverter limit") for c in plan.binding_constraints)


def test_negative_export_price_curtails_instead_of_exporting() -> None:
    n = 8
    inputs = make_inputs(
        [20.0] * n,
        export_p=[-2.0] * n,
        pv_kw=[4.0] * n,
        load_kw=[0.5] * n,
        soc_pct=100.0,
    )
    plan = optimize(inputs, BATTERY, SITE)

    assert energy_kwh(plan, "export_kw") == pytest.approx(0.0, abs=1e-6)
    assert all(s.curtail_kw == pytest.approx(3.5, abs=1e-3) for s in plan.slots)
    assert plan.slots[0].reason == "Curtail solar: exporting costs 2.0p"


def test_message_names_forecast_prices() -> None:
    inputs = replace(cheap_night_day(), price_is_forecast=(False,) * 40 + (True,) * 8)
    plan = optimize(inputs, BATTERY, SITE, display_tz=LONDON)
    assert "prices from Thu 21:00 on are forecasts" in plan.message
