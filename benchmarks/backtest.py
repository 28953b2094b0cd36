"""Receding-horizon backtest: our planner against no battery, self use, the rules and the limit.

Run from the repository root, for example
`.venv/bin/python benchmarks/backtest.py --prices ../shared/data/prices/agile_import_export_2022-11_2023-06.csv
--household ../shared/data/household/home_a_load_pv_2024-02_2025-02.csv`.
The last line is machine-readable:
`cost_none=<GBP> cost_selfuse=<GBP> cost_rules=<GBP> cost_ours=<GBP> cost_perfect=<GBP>
captured_pct=<n> captured_pct_perfect_forecast=<n> replans=<n> seconds=<n>`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import statistics
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import isolate_optimizer

isolate_optimizer()

from benchmarks._align import MEAN_OF_HOMES, align  # noqa: E402
from custom_components.battery_optimizer.optimizer.model import (  # noqa: E402
    Battery,
    RuleSettings,
    Site,
)
from custom_components.battery_optimizer.optimizer.simulate import (  # noqa: E402
    Result,
    perfect_foresight,
    run,
)
from custom_components.battery_optimizer.optimizer.strategies import (  # noqa: E402
    Forecasts,
    PlannerOptions,
    PlannerStrategy,
    rules_strategy,
    self_use_strategy,
)

PENCE_PER_GBP = 100.0
# The planner's defaults for the backtest, chosen by the measurements in docs/backtest.md.
DEFAULT_HORIZON_H = 0.0
DEFAULT_TERMINAL_SHARE: float | None = None


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prices", type=Path, required=True)
    parser.add_argument("--household", type=Path, required=True)
    parser.add_argument("--battery-kwh", type=float, default=10.4)
    parser.add_argument("--battery-kw", type=float, default=5.0)
    parser.add_argument("--days", type=int, default=None, help="only the first N days")
    parser.add_argument(
        "--home", default=MEAN_OF_HOMES, help="column of a multi-home file, or 'mean'"
    )
    parser.add_argument(
        "--horizon-h",
        type=float,
        default=DEFAULT_HORIZON_H,
        help="plan at least this far ahead, with forecast prices past publication",
    )
    parser.add_argument(
        "--terminal-share",
        type=float,
        default=DEFAULT_TERMINAL_SHARE,
        help="value of energy left at the end as a share of the mean import price",
    )
    parser.add_argument(
        "--plots", type=Path, default=None, help="folder for PNG charts"
    )
    return parser.parse_args()


def _gbp(pence: float) -> float:
    return pence / PENCE_PER_GBP


def _timing(result: Result) -> str:
    if not result.plan_ms:
        return f"{'':>26}"
    times = result.plan_ms
    p90 = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]
    return f"{statistics.median(times):>8.2f}{p90:>9.2f}{max(times):>9.1f}"


def _row(result: Result, none: Result, battery: Battery) -> str:
    saving = _gbp(none.cost_p - result.cost_p)
    return (
        f"{result.name:<26}{_gbp(result.cost_p):>10.2f}{saving:>10.2f}"
        f"{result.equivalent_cycles(battery):>8.1f}{_timing(result)}"
    )


def _captured_pct(ours: Result, selfuse: Result, perfect: Result) -> float:
    room_p = selfuse.cost_p - perfect.cost_p
    return 100 * (selfuse.cost_p - ours.cost_p) / room_p if room_p > 0 else 0.0


def main() -> None:
    """Run every strategy over the period, print the table and the summary line."""
    args = _parse_args()
    started = time.perf_counter()
    aligned = align(args.prices, args.household, days=args.days, home=args.home)
    timeline = aligned.timeline
    for note in aligned.notes:
        print(note)
    battery = Battery(
        capacity_kwh=args.battery_kwh,
        charge_limit_kw=args.battery_kw,
        discharge_limit_kw=args.battery_kw,
    )
    site = Site()
    settings = RuleSettings()
    initial_soc_pct = battery.reserve_soc_pct
    options = PlannerOptions(
        min_horizon_slots=round(args.horizon_h * 2),
        terminal_value_share=args.terminal_share,
    )
    print(
        f"{len(timeline)} slots from {timeline.start:%Y-%m-%d %H:%M} UTC; battery "
        f"{battery.capacity_kwh} kWh, {battery.charge_limit_kw} kW; {options}"
    )

    none = run("no battery", None, timeline, battery, site, initial_soc_pct)
    selfuse = run(
        "self use", self_use_strategy(), timeline, battery, site, initial_soc_pct
    )
    rules = run(
        "rules",
        rules_strategy(timeline, battery, site, settings),
        timeline,
        battery,
        site,
        initial_soc_pct,
    )
    planner_started = time.perf_counter()
    ours_strategy = PlannerStrategy(timeline, battery, site, options)
    ours = run("ours", ours_strategy, timeline, battery, site, initial_soc_pct)
    ours_seconds = time.perf_counter() - planner_started
    ours_pf_strategy = PlannerStrategy(
        timeline,
        battery,
        site,
        PlannerOptions(
            forecasts=Forecasts.PERFECT,
            min_horizon_slots=options.min_horizon_slots,
            terminal_value_share=options.terminal_value_share,
        ),
    )
    ours_pf = run(
        "ours, actual load/PV",
        ours_pf_strategy,
        timeline,
        battery,
        site,
        initial_soc_pct,
    )
    perfect = perfect_foresight(timeline, battery, site, initial_soc_pct)

    print(
        f"{'strategy':<26}{'cost £':>10}{'saved £':>10}{'cycles':>8}"
        f"{'med ms':>8}{'p90 ms':>9}{'max ms':>9}"
    )
    for result in (none, selfuse, rules, ours, ours_pf, perfect):
        print(_row(result, none, battery))
    captured = _captured_pct(ours, selfuse, perfect)
    captured_pf = _captured_pct(ours_pf, selfuse, perfect)
    rules_saving_p = none.cost_p - rules.cost_p
    ours_saving_p = none.cost_p - ours.cost_p
    if rules_saving_p > 0:
        print(
            f"savings vs no battery: ours / rules = {ours_saving_p / rules_saving_p:.2f}"
        )
    print(
        f"planner fallbacks: {ours_strategy.fallbacks} realistic, "
        f"{ours_pf_strategy.fallbacks} actual load/PV; one realistic run took "
        f"{ours_seconds:.0f} s for {ours.replans} replans"
    )
    if args.plots is not None:
        from benchmarks._plots import write_plots

        for path in write_plots(
            args.plots, timeline, none, selfuse, rules, ours, perfect, battery
        ):
            print(f"wrote {path}")
    print(
        f"cost_none={_gbp(none.cost_p):.2f} cost_selfuse={_gbp(selfuse.cost_p):.2f} "
        f"cost_rules={_gbp(rules.cost_p):.2f} cost_ours={_gbp(ours.cost_p):.2f} "
        f"cost_perfect={_gbp(perfect.cost_p):.2f} captured_pct={captured:.1f} "
        f"captured_pct_perfect_forecast={captured_pf:.1f} replans={ours.replans} "
        f"seconds={time.perf_counter() - started:.0f}"
    )


if __name__ == "__main__":
    main()
