"""Writes to the inverter under automatic control, over a week of real prices.

Replays a week of real Agile prices (published on the 16:00 UK schedule) and
the real load and PV of household home_a through the planner (re-planned every
5 or 30 minutes, with forecasts made only from the past) and the control
policy of the integration, which drives the simulated inverter. Counts the
writes and the mode changes the inverter sees. Goal: writes at most twice the
mode changes. The last line is machine-readable:
`writes_per_day=<n> mode_changes_per_day=<m>`.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import isolate_optimizer

# The control policy and the simulated driver need no Home Assistant.
isolate_optimizer()

from benchmarks._align import align  # noqa: E402
from benchmarks._data import DATA_DIR  # noqa: E402
from custom_components.battery_optimizer.control.policy import (  # noqa: E402
    ControlSettings,
    async_drive,
    decide,
)
from custom_components.battery_optimizer.inverters.base import (  # noqa: E402
    InverterCommand,
)
from custom_components.battery_optimizer.inverters.simulated import (  # noqa: E402
    SimulatedBattery,
    SimulatedDriver,
)
from custom_components.battery_optimizer.optimizer import optimize  # noqa: E402
from custom_components.battery_optimizer.optimizer.forecast import (  # noqa: E402
    load_forecast_kw,
    pv_forecast_kw,
)
from custom_components.battery_optimizer.optimizer.horizon import (  # noqa: E402
    next_boundary,
    published_until,
)
from custom_components.battery_optimizer.optimizer.model import (  # noqa: E402
    Battery,
    Inputs,
    Site,
)
from custom_components.battery_optimizer.optimizer.simulate import (  # noqa: E402
    Timeline,
)

PRICES = DATA_DIR / "prices" / "agile_import_export_2022-11_2023-06.csv"
HOUSEHOLD = DATA_DIR / "household" / "home_a_load_pv_2024-02_2025-02.csv"
SLOT = timedelta(minutes=30)
MAX_HORIZON = timedelta(hours=48)
# Two weeks of history feed the load and PV forecasts before the replayed week.
WARM_UP_DAYS = 14
DEFAULT_START = datetime(2023, 3, 6, tzinfo=UTC)
DEFAULT_HYSTERESIS_P = 1.0
CONTROL_TICK = timedelta(minutes=1)
END_VALUE_SHARE = 0.8
BATTERY = Battery(
    capacity_kwh=10.4,
    charge_limit_kw=5.0,
    discharge_limit_kw=5.0,
    charge_efficiency=0.95,
    discharge_efficiency=0.95,
    reserve_soc_pct=10.0,
    max_soc_pct=100.0,
    cycle_cost_p_per_kwh=2.0,
)
SITE = Site(import_limit_kw=14.0, export_limit_kw=3.68, inverter_ac_limit_kw=5.0)


def plan_inputs(timeline: Timeline, now: datetime, soc_pct: float) -> Inputs:
    """What the integration would feed the planner at `now`: published prices only."""
    t = int((now - timeline.start) / SLOT)
    end = min(now + MAX_HORIZON, published_until(now))
    n = max(1, int((end - timeline.slot_start(t)) / SLOT))
    n = min(n, len(timeline) - t)
    starts = [now] + [timeline.slot_start(t + k) for k in range(1, n)]
    first_h = (next_boundary(now) - now).total_seconds() / 3600
    import_p = tuple(timeline.import_p_per_kwh[t : t + n])
    return Inputs(
        starts=tuple(starts),
        durations_h=(first_h,) + (0.5,) * (n - 1),
        import_price_p_per_kwh=import_p,
        export_price_p_per_kwh=tuple(timeline.export_p_per_kwh[t : t + n]),
        pv_kw=tuple(pv_forecast_kw(timeline.pv_kw, timeline.pv_forecast_kw, t, n)),
        load_kw=tuple(load_forecast_kw(timeline.load_kw, t, n)),
        initial_soc_pct=min(100.0, max(0.0, soc_pct)),
        terminal_value_p_per_kwh=END_VALUE_SHARE * sum(import_p) / n,
    )


async def replay(
    timeline: Timeline,
    start: datetime,
    days: int,
    replan: timedelta,
    hysteresis_p: float,
) -> SimulatedDriver:
    """Run planner and control over `days` from `start`; return the simulated inverter."""
    offset = int((start - timeline.start) / SLOT)
    driver = SimulatedDriver(
        SimulatedBattery(
            capacity_kwh=BATTERY.capacity_kwh,
            charge_limit_kw=BATTERY.charge_limit_kw,
            discharge_limit_kw=BATTERY.discharge_limit_kw,
            charge_efficiency=BATTERY.charge_efficiency,
            discharge_efficiency=BATTERY.discharge_efficiency,
            reserve_soc_pct=BATTERY.reserve_soc_pct,
            max_soc_pct=BATTERY.max_soc_pct,
            export_limit_kw=SITE.export_limit_kw,
        ),
        start=start,
        soc_pct=50.0,
        load_kw=list(timeline.load_kw[offset:]),
        pv_kw=list(timeline.pv_kw[offset:]),
    )
    settings = ControlSettings.from_model(BATTERY, SITE, hysteresis_p)
    held: InverterCommand | None = None
    plan = None
    planned_at = start - replan
    now = start
    end = start + timedelta(days=days)
    while now < end:
        driver.advance(now)
        if now - planned_at >= replan:
            plan = optimize(plan_inputs(timeline, now, driver.soc_pct), BATTERY, SITE)
            planned_at = now
        # The loop drives after each plan and whenever an `until` has passed.
        due = now == planned_at or (
            held is not None and held.until is not None and held.until <= now
        )
        if due and plan is not None:
            command = decide(
                plan, now, driver.soc_pct, held, driver.capabilities, settings
            )
            outcome = await async_drive(driver, command)
            if outcome.ok:
                held = command
        now += CONTROL_TICK
    return driver


def main() -> int:
    """Replay the week and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default=DEFAULT_START.date().isoformat())
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--replan-minutes", type=int, choices=(5, 30), default=5)
    parser.add_argument("--hysteresis-p", type=float, default=DEFAULT_HYSTERESIS_P)
    args = parser.parse_args()
    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    aligned = align(PRICES, HOUSEHOLD, days=None, home="home_a")
    timeline = aligned.timeline
    if start - timedelta(days=WARM_UP_DAYS) < timeline.start:
        print(f"start must be {WARM_UP_DAYS} days after {timeline.start:%Y-%m-%d}")
        return 1
    driver = asyncio.run(
        replay(
            timeline,
            start,
            args.days,
            timedelta(minutes=args.replan_minutes),
            args.hysteresis_p,
        )
    )
    totals = driver.totals
    writes_per_day = totals.writes / args.days
    changes_per_day = totals.mode_changes / args.days
    print(
        f"{args.days} days from {start:%Y-%m-%d}, re-plan every "
        f"{args.replan_minutes} min, hysteresis {args.hysteresis_p:g}p per slot"
    )
    print(
        f"import {totals.import_kwh:.1f} kWh, export {totals.export_kwh:.1f} kWh, "
        f"battery throughput {totals.charge_kwh + totals.discharge_kwh:.1f} kWh"
    )
    verdict = "within" if totals.writes <= 2 * totals.mode_changes else "ABOVE"
    print(f"writes {totals.writes}, mode changes {totals.mode_changes}: {verdict} 2x")
    print(
        f"writes_per_day={writes_per_day:.1f} mode_changes_per_day={changes_per_day:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
