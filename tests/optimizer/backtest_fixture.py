"""Six real days (prices of April 2023, home_a at the same time of year) as a Timeline."""

from __future__ import annotations

import csv
from datetime import datetime
import math
from pathlib import Path

from custom_components.battery_optimizer.optimizer.simulate import Timeline

FIXTURE = Path(__file__).parents[1] / "fixtures" / "backtest_2023-04-10_6d.csv"
W_PER_KW = 1000.0


def load_timeline() -> Timeline:
    """The fixture as a Timeline; missing PV forecasts are NaN."""
    with FIXTURE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return Timeline(
        start=datetime.fromisoformat(rows[0]["start"].replace("Z", "+00:00")),
        import_p_per_kwh=[float(r["import_p_per_kwh"]) for r in rows],
        export_p_per_kwh=[float(r["export_p_per_kwh"]) for r in rows],
        load_kw=[float(r["load_w"]) / W_PER_KW for r in rows],
        pv_kw=[float(r["pv_w"]) / W_PER_KW for r in rows],
        pv_forecast_kw=[
            float(r["pv_forecast_w"]) / W_PER_KW if r["pv_forecast_w"] else math.nan
            for r in rows
        ],
    )
