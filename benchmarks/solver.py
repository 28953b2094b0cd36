"""Solver speed and memory on real Agile prices and a real household's load and PV.

For many start times, times Inputs -> Plan through `optimize()` for 96 and 336
slots and through the rules for 96 slots, after a warm-up (so importing PuLP is
not counted). The last line is machine-readable:
`solve_ms_96=<median> solve_ms_336=<median> rules_ms_96=<median> rss_mb=<peak>`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
import resource
import statistics
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import isolate_optimizer
from benchmarks._data import SLOT, HalfHourly, read_half_hourly

isolate_optimizer()

from custom_components.battery_optimizer.optimizer import (  # noqa: E402
    Battery,
    Inputs,
    RuleSettings,
    Site,
    optimize,
)
from custom_components.battery_optimizer.optimizer.rules import plan_rules  # noqa: E402

WINDOWS = 50
WARM_UP_RUNS = 5
# A "now" a few minutes past the boundary, so the first slot is partial as in use.
MINUTES_INTO_SLOT = 7
BATTERY = Battery(
    capacity_kwh=10.4,
    charge_limit_kw=3.6,
    discharge_limit_kw=3.6,
    charge_efficiency=0.95,
    discharge_efficiency=0.95,
    reserve_soc_pct=10.0,
    cycle_cost_p_per_kwh=2.0,
)
SITE = Site(import_limit_kw=15.0, export_limit_kw=3.68, inverter_ac_limit_kw=5.0)
SETTINGS = RuleSettings()
DAY = timedelta(days=1)


def household_start(household: HalfHourly, price_start: datetime, n: int) -> datetime:
    """A complete household window at the same time of year and day as the prices."""
    # The household data is from another year: keep the season and the clock.
    for year in (2024, 2025):
        target = price_start.replace(year=year)
        for shift in range(60):
            for candidate in (target + shift * DAY, target - shift * DAY):
                if household.window(candidate, n) is not None:
                    return candidate
    msg = f"no household window near {price_start:%m-%d %H:%M}"
    raise LookupError(msg)


def build_inputs(
    prices: HalfHourly,
    household: HalfHourly,
    price_start: datetime,
    n: int,
    soc_pct: float,
) -> Inputs:
    """Inputs for n slots from price_start, the first slot partial."""
    price_rows = prices.window(price_start, n)
    home_rows = household.window(household_start(household, price_start, n), n)
    assert price_rows is not None
    assert home_rows is not None
    first_h = (30 - MINUTES_INTO_SLOT) / 60
    now = price_start + timedelta(minutes=MINUTES_INTO_SLOT)
    return Inputs(
        starts=(now, *(price_start + t * SLOT for t in range(1, n))),
        durations_h=(first_h, *([0.5] * (n - 1))),
        import_price_p_per_kwh=tuple(row[0] for row in price_rows),
        export_price_p_per_kwh=tuple(row[1] for row in price_rows),
        load_kw=tuple(max(0.0, row[0]) / 1000 for row in home_rows),
        pv_kw=tuple(max(0.0, row[1]) / 1000 for row in home_rows),
        initial_soc_pct=soc_pct,
    )


def spread(starts: list[datetime], count: int) -> list[datetime]:
    """Count start times spread evenly over the list."""
    step = max(1, len(starts) // count)
    return starts[::step][:count]


def timed_ms(run: object) -> float:
    """Wall time of one call in ms."""
    assert callable(run)
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def summary(name: str, times_ms: list[float]) -> str:
    """One table row: median, 90th percentile and maximum."""
    p90 = statistics.quantiles(times_ms, n=10)[-1]
    return (
        f"{name:<16}{len(times_ms):>6}{statistics.median(times_ms):>10.2f}"
        f"{p90:>10.2f}{max(times_ms):>10.2f}"
    )


def main() -> None:
    """Run the benchmark and print the table and the summary line."""
    prices = read_half_hourly(
        "prices/agile_import_export_2022-11_2023-06.csv",
        ("import_p_per_kwh", "export_p_per_kwh"),
    )
    household = read_half_hourly(
        "household/home_a_load_pv_2024-02_2025-02.csv", ("load_w", "pv_w")
    )
    print(prices.describe())
    print(household.describe())

    cases = []
    for k, start in enumerate(spread(prices.window_starts(336), WINDOWS)):
        soc_pct = (17 + 37 * k) % 101
        cases.append(
            (
                build_inputs(prices, household, start, 96, soc_pct),
                build_inputs(prices, household, start, 336, soc_pct),
            )
        )
    print(
        f"{len(cases)} windows from {cases[0][0].starts[0]:%Y-%m-%d} "
        f"to {cases[-1][0].starts[0]:%Y-%m-%d}"
    )

    for inputs_96, inputs_336 in cases[:WARM_UP_RUNS]:
        optimize(inputs_96, BATTERY, SITE, SETTINGS)
        optimize(inputs_336, BATTERY, SITE, SETTINGS)
        plan_rules(inputs_96, BATTERY, SITE, SETTINGS)

    lp_96: list[float] = []
    lp_336: list[float] = []
    rules_96: list[float] = []
    statuses: Counter[str] = Counter()
    savings_p: list[float] = []
    for inputs_96, inputs_336 in cases:
        started = time.perf_counter()
        plan = optimize(inputs_96, BATTERY, SITE, SETTINGS)
        lp_96.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        rules = plan_rules(inputs_96, BATTERY, SITE, SETTINGS)
        rules_96.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        long_plan = optimize(inputs_336, BATTERY, SITE, SETTINGS)
        lp_336.append((time.perf_counter() - started) * 1000)
        statuses[plan.status] += 1
        statuses[long_plan.status] += 1
        savings_p.append(rules.objective_p - plan.objective_p)

    print(f"{'case':<16}{'runs':>6}{'median':>10}{'p90':>10}{'max':>10}   (ms)")
    print(summary("optimize 96", lp_96))
    print(summary("optimize 336", lp_336))
    print(summary("rules 96", rules_96))
    print(f"plan statuses: {dict(statuses)}")
    print(
        "objective, rules minus LP over 48 h: median "
        f"{statistics.median(savings_p):.1f}p, min {min(savings_p):.1f}p"
    )
    median_96 = statistics.median(lp_96)
    median_rules = statistics.median(rules_96)
    print(f"ratio solve_ms_96/rules_ms_96={median_96 / median_rules:.1f}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"solve_ms_96={median_96:.2f} solve_ms_336={statistics.median(lp_336):.2f} "
        f"rules_ms_96={median_rules:.3f} rss_mb={rss_mb:.1f}"
    )


if __name__ == "__main__":
    main()
