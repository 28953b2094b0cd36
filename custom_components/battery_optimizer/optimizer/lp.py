"""The battery plan as a linear program (PuLP), solved with HiGHS.

One function builds the model of DESIGN.md; `solve_lp` solves it, adds
exclusivity binaries only on the slots where the pure LP charges and
discharges (or imports and exports) at once, and turns the answer into a Plan.
PuLP is imported inside the functions: importing it costs about half a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, tzinfo
import time
from typing import TYPE_CHECKING, Any

from .constraints import binding_constraints
from .explain import Flows, build_slots
from .model import (
    Battery,
    Inputs,
    Plan,
    PlanStatus,
    Site,
    terminal_value_p_per_kwh,
)
from .solver_output import quiet_highs_banner

if TYPE_CHECKING:
    from pulp import LpConstraint, LpProblem, LpSolveStats, LpVariable

# Cost of each kWh-hour below the reserve (or above the maximum) when the battery
# starts outside its range: far above any tariff, so it climbs back at once.
OUT_OF_RANGE_PENALTY_P_PER_KWH = 1000.0
# Curtailment costs a hair so it never ties with exporting at 0p; see
# curtail_tie_break_p_per_kwh for why the hair is thicker early on.
CURTAIL_TIE_BREAK_P_PER_KWH = 1e-3
# Below this a flow counts as zero when looking for simultaneous flows.
EXCLUSIVITY_TOL_KW = 1e-6
# Presolve costs more than it saves on these small, sparse LPs.
LP_OPTIONS: dict[str, Any] = {"presolve": "off"}
# A MIP here has a few dozen binaries and closes at the root: HiGHS's default
# 0.01 % gap is looser than needed, and its search heuristics take longer than
# the search itself.
MIP_OPTIONS: dict[str, Any] = {
    "mip_rel_gap": 1e-6,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
}


class SolverError(RuntimeError):
    """The LP gave no optimal plan; `status` says which fallback applies."""

    def __init__(self, status: PlanStatus, message: str) -> None:
        """Keep the fallback status next to the message."""
        super().__init__(message)
        self.status = status


def curtail_tie_break_p_per_kwh(t: int, n: int) -> float:
    """Objective cost of curtailing 1 kWh in slot t of n: from 2x down to 1x the base.

    When PV will fill the battery anyway, storing it now or later costs the same;
    making early curtailment dearer stores it first, as an inverter would.
    """
    return CURTAIL_TIE_BREAK_P_PER_KWH * (2 - t / n)


@dataclass(slots=True)
class _Model:
    """The PuLP problem and the handles needed to read the answer."""

    problem: LpProblem
    import_kw: list[LpVariable]
    export_kw: list[LpVariable]
    charge_kw: list[LpVariable]
    discharge_kw: list[LpVariable]
    curtail_kw: list[LpVariable]
    stored_kwh: list[LpVariable]
    storage_rows: list[LpConstraint]
    charge_or_discharge: dict[int, LpVariable] = field(default_factory=dict)
    import_or_export: dict[int, LpVariable] = field(default_factory=dict)


def _build_model(
    inputs: Inputs, battery: Battery, site: Site, value_p: float
) -> _Model:
    """Build the LP of DESIGN.md "The optimization model" for these inputs."""
    import pulp

    expr = pulp.LpAffineExpression.from_list
    eq, le, ge = (
        pulp.const.LpConstraintEQ,
        pulp.const.LpConstraintLE,
        pulp.const.LpConstraintGE,
    )
    n = len(inputs)
    slots = range(n)
    initial_kwh = battery.capacity_kwh * inputs.initial_soc_pct / 100
    reserve_kwh, max_kwh = battery.reserve_kwh, battery.max_kwh
    eta_c, eta_d = battery.charge_efficiency, battery.discharge_efficiency
    ac_kw = site.inverter_ac_limit_kw

    problem = pulp.LpProblem("battery_plan", pulp.LpMinimize)
    add = problem.add_variable_matrix
    import_kw = add("import_kw", slots, 0, site.import_limit_kw)
    export_kw = add("export_kw", slots, 0, site.export_limit_kw)
    charge_kw = add("charge_kw", slots, 0, battery.charge_limit_kw)
    discharge_kw = add("discharge_kw", slots, 0, battery.discharge_limit_kw)
    curtail_kw = add("curtail_kw", slots, 0, 0)
    for u, pv in zip(curtail_kw, inputs.pv_kw, strict=True):
        if pv > 0:
            u.upBound = pv
    # A start outside [reserve, max] is allowed; the penalty brings it back.
    below_reserve = initial_kwh < reserve_kwh
    above_max = initial_kwh > max_kwh
    stored_kwh = add(
        "stored_kwh",
        slots,
        0 if below_reserve else reserve_kwh,
        initial_kwh if above_max else max_kwh,
    )

    objective: list[tuple[LpVariable, float]] = []
    storage_rows: list[LpConstraint] = []
    for t in slots:
        h = inputs.durations_h[t]
        pv, load = inputs.pv_kw[t], inputs.load_kw[t]
        i, e, c, d, u, s = (
            import_kw[t],
            export_kw[t],
            charge_kw[t],
            discharge_kw[t],
            curtail_kw[t],
            stored_kwh[t],
        )
        # Without PV, curtailment stays out of the rows: a smaller model solves faster.
        has_pv = pv > 0
        curtail = [(u, -1.0)] if has_pv else []
        uncurtail = [(u, 1.0)] if has_pv else []
        balance = expr([(i, 1.0), (d, 1.0), (c, -1.0), (e, -1.0), *curtail], pv - load)
        balance.sense = eq
        problem.addConstraint(balance)

        flows = [(s, 1.0), (c, -eta_c * h), (d, h / eta_d)]
        if t > 0:
            flows.append((stored_kwh[t - 1], -1.0))
        storage = expr(flows, -initial_kwh if t == 0 else 0.0)
        storage.sense = eq
        storage_rows.append(problem.addConstraint(storage))

        # |pv - u + d - c| <= ac, each side only where it can bind.
        if battery.discharge_limit_kw + pv > ac_kw:
            ac_out = expr([(d, 1.0), (c, -1.0), *curtail], pv - ac_kw)
            ac_out.sense = le
            problem.addConstraint(ac_out)
        if battery.charge_limit_kw > ac_kw:
            ac_in = expr([(c, 1.0), (d, -1.0), *uncurtail], -pv - ac_kw)
            ac_in.sense = le
            problem.addConstraint(ac_in)

        if below_reserve:
            shortfall = problem.add_variable(f"shortfall_kwh_{t}", 0, reserve_kwh)
            floor = expr([(s, 1.0), (shortfall, 1.0)], -reserve_kwh)
            floor.sense = ge
            problem.addConstraint(floor)
            objective.append((shortfall, OUT_OF_RANGE_PENALTY_P_PER_KWH * h))
        if above_max:
            excess = problem.add_variable(f"excess_kwh_{t}", 0, initial_kwh - max_kwh)
            ceiling = expr([(s, 1.0), (excess, -1.0)], -max_kwh)
            ceiling.sense = le
            problem.addConstraint(ceiling)
            objective.append((excess, OUT_OF_RANGE_PENALTY_P_PER_KWH * h))

        cycle_p = battery.cycle_cost_p_per_kwh * h
        objective.extend(
            (
                (i, inputs.import_price_p_per_kwh[t] * h),
                (e, -inputs.export_price_p_per_kwh[t] * h),
                (c, cycle_p),
                (d, cycle_p),
            )
        )
        if has_pv:
            objective.append((u, curtail_tie_break_p_per_kwh(t, n) * h))
    objective.append((stored_kwh[-1], -value_p))
    problem.setObjective(expr(objective))
    return _Model(
        problem,
        import_kw,
        export_kw,
        charge_kw,
        discharge_kw,
        curtail_kw,
        stored_kwh,
        storage_rows,
    )


def _exclusive_pairs(
    model: _Model, inputs: Inputs, battery: Battery, site: Site, t: int
) -> tuple[
    tuple[str, dict[int, LpVariable], LpVariable, LpVariable, float, float], ...
]:
    """Flow pairs of slot t that must not both run, with the tightest valid bounds.

    Each bound holds whenever the other flow of its pair is zero, which is all
    the big-M rows need; tight bounds keep the MIP's relaxation close.
    """
    pv, load = inputs.pv_kw[t], inputs.load_kw[t]
    ac_kw = site.inverter_ac_limit_kw
    charge_max = min(
        battery.charge_limit_kw, ac_kw + pv, max(0.0, site.import_limit_kw + pv - load)
    )
    discharge_max = min(battery.discharge_limit_kw, ac_kw, site.export_limit_kw + load)
    import_max = min(site.import_limit_kw, load + battery.charge_limit_kw, load + ac_kw)
    export_max = max(
        0.0,
        min(site.export_limit_kw, pv + battery.discharge_limit_kw - load, ac_kw - load),
    )
    return (
        (
            "charging",
            model.charge_or_discharge,
            model.charge_kw[t],
            model.discharge_kw[t],
            charge_max,
            discharge_max,
        ),
        (
            "importing",
            model.import_or_export,
            model.import_kw[t],
            model.export_kw[t],
            import_max,
            export_max,
        ),
    )


def _add_exclusivity(
    model: _Model, inputs: Inputs, battery: Battery, site: Site
) -> bool:
    """Add a binary on each slot that still flows both ways; False if none does."""
    import pulp

    expr = pulp.LpAffineExpression.from_list
    le = pulp.const.LpConstraintLE
    problem = model.problem
    added = False
    for t in range(len(inputs)):
        for name, binaries, a, b, a_max, b_max in _exclusive_pairs(
            model, inputs, battery, site, t
        ):
            if t in binaries or not (
                (a.varValue or 0.0) > EXCLUSIVITY_TOL_KW
                and (b.varValue or 0.0) > EXCLUSIVITY_TOL_KW
            ):
                continue
            # z = 1 allows only the first flow, z = 0 only the second.
            z = problem.add_variable(f"{name}_{t}", cat="Binary")
            only_first = expr([(a, 1.0), (z, -a_max)])
            only_first.sense = le
            problem.addConstraint(only_first)
            only_second = expr([(b, 1.0), (z, b_max)], -b_max)
            only_second.sense = le
            problem.addConstraint(only_second)
            binaries[t] = z
            added = True
    return added


def _fix_binaries(model: _Model) -> None:
    """Freeze the binaries at their values so the final LP yields duals."""
    for z in (*model.charge_or_discharge.values(), *model.import_or_export.values()):
        fixed = round(z.varValue or 0.0)
        z.cat = "Continuous"
        z.lowBound = fixed
        z.upBound = fixed


def _run(model: _Model, deadline: float) -> LpSolveStats:
    """Solve once within the time left; raise SolverError unless optimal."""
    import pulp

    quiet_highs_banner()
    remaining_s = deadline - time.perf_counter()
    if remaining_s <= 0:
        raise SolverError(PlanStatus.FALLBACK_TIMEOUT, "no time left to solve the plan")
    is_mip = bool(model.problem.isMIP())
    options: dict[str, Any] = MIP_OPTIONS if is_mip else LP_OPTIONS
    solver = pulp.HiGHS(msg=False, timeLimit=remaining_s, **options)
    try:
        stats = model.problem.solve(solver)
    except Exception as err:
        raise SolverError(PlanStatus.FALLBACK_ERROR, f"solver failed: {err}") from err
    status = pulp.LpSolveStatus(stats.status)
    if status == pulp.LpSolveStatus.Optimal and stats.has_solution:
        return stats
    if status == pulp.LpSolveStatus.TimeLimit:
        raise SolverError(
            PlanStatus.FALLBACK_TIMEOUT,
            f"solver ran out of time after {stats.time * 1000:.0f} ms",
        )
    if status in (
        pulp.LpSolveStatus.Infeasible,
        pulp.LpSolveStatus.Unbounded,
        pulp.LpSolveStatus.Undefined,
    ):
        raise SolverError(
            PlanStatus.FALLBACK_INFEASIBLE,
            f"no plan meets the limits (solver status {status.name})",
        )
    raise SolverError(PlanStatus.FALLBACK_ERROR, f"solver stopped: {status.name}")


def _values(variables: list[LpVariable]) -> list[float]:
    return [v.varValue or 0.0 for v in variables]


def _describe(inputs: Inputs, value_p: float, display_tz: tzinfo) -> str:
    """One line on what the plan assumed."""
    parts = [
        f"Optimal plan over {sum(inputs.durations_h):.1f} h",
        f"energy left at the end valued at {value_p:.1f}p/kWh",
    ]
    forecast = [t for t in range(len(inputs)) if inputs.is_forecast(t)]
    if forecast:
        first = inputs.starts[forecast[0]].astimezone(display_tz)
        parts.append(f"prices from {first:%a %H:%M} on are forecasts")
    return "; ".join(parts)


def solve_lp(
    inputs: Inputs,
    battery: Battery,
    site: Site,
    *,
    time_limit_s: float = 3.0,
    display_tz: tzinfo = UTC,
) -> Plan:
    """Solve the plan exactly; raise SolverError on any non-optimal outcome."""
    started = time.perf_counter()
    deadline = started + time_limit_s
    value_p = terminal_value_p_per_kwh(inputs)
    model = _build_model(inputs, battery, site, value_p)
    stats = _run(model, deadline)
    # Binaries only where the relaxation cheats: exact, since every round solves
    # a relaxation of the fully constrained problem.
    while _add_exclusivity(model, inputs, battery, site):
        stats = _run(model, deadline)
    initial_kwh = battery.capacity_kwh * inputs.initial_soc_pct / 100
    # Read the flows before any re-solve: the LP with fixed binaries has the same
    # optimum but may reach it through other slots, where nothing forbids
    # importing and exporting at once.
    flows = Flows(
        import_kw=_values(model.import_kw),
        export_kw=_values(model.export_kw),
        charge_kw=_values(model.charge_kw),
        discharge_kw=_values(model.discharge_kw),
        curtail_kw=_values(model.curtail_kw),
        stored_kwh=[initial_kwh, *_values(model.stored_kwh)],
    )
    objective_p = float(stats.objective or 0.0)
    if model.charge_or_discharge or model.import_or_export:
        # Duals exist only for an LP: fix the binaries and solve again for them.
        _fix_binaries(model)
        _run(model, deadline)
    slots = build_slots(inputs, battery, flows, value_p, display_tz)
    first_dual = model.storage_rows[0].pi
    # The dual is d(cost)/d(initial energy): negative when energy saves money.
    stored_value_p = None if first_dual is None else round(-first_dual, 4) + 0.0
    return Plan(
        slots=slots,
        status=PlanStatus.OPTIMAL,
        objective_p=objective_p,
        solve_ms=(time.perf_counter() - started) * 1000,
        initial_soc_kwh=initial_kwh,
        terminal_value_p_per_kwh=value_p,
        binding_constraints=binding_constraints(slots, battery, site, display_tz),
        stored_energy_value_p_per_kwh=stored_value_p,
        message=_describe(inputs, value_p, display_tz),
    )
