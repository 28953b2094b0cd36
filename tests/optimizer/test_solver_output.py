"""Solving writes nothing to standard output, which belongs to Home Assistant."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).parent.parent.parent

SOLVE = """
from datetime import UTC, datetime
from custom_components.battery_optimizer.optimizer import Battery, Inputs, Site, optimize

n = 4
inputs = Inputs(
    starts=tuple(datetime(2023, 6, 1, h, tzinfo=UTC) for h in range(n)),
    durations_h=(0.5,) * n,
    import_price_p_per_kwh=(5.0, 30.0, 5.0, 30.0),
    export_price_p_per_kwh=(1.0,) * n,
    pv_kw=(0.0,) * n,
    load_kw=(0.5,) * n,
    initial_soc_pct=50.0,
)
battery = Battery(capacity_kwh=5.0, charge_limit_kw=2.0, discharge_limit_kw=2.0)
site = Site(import_limit_kw=15.0, export_limit_kw=3.68, inverter_ac_limit_kw=5.0)
for _ in range(2):
    assert optimize(inputs, battery, site).status.value == "optimal"
print("solved", file=sys.stderr)
"""


def _stdout_of(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys\n" + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_highs_prints_its_banner_when_left_alone() -> None:
    """The reason for the guard: a bare HiGHS solver writes to standard output."""
    result = _stdout_of("import highspy\nhighspy.Highs()")
    assert result.returncode == 0, result.stderr
    assert "HiGHS" in result.stdout


def test_solving_plans_writes_nothing_to_standard_output() -> None:
    result = _stdout_of(SOLVE)
    assert result.returncode == 0, result.stderr
    assert "solved" in result.stderr
    assert result.stdout == ""
