"""Re-plan cycle time in a test Home Assistant, and the longest event-loop step.

Sets the integration up in a pytest-homeassistant-custom-component instance with
the real Agile prices of tests/fixtures replayed around now, then times 30 calls
of `await coordinator.async_refresh()` (48-hour plan: solve in the executor,
entities written) and every event-loop callback run meanwhile. Goals: median
cycle within 50 ms, no loop step over 20 ms. The last line is machine-readable:
`cycle_ms=<median> loop_blocked_ms=<max>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import statistics
import sys

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_MODULE = Path(__file__).with_name("cycle_hass.py")


@dataclass(eq=False)
class CycleResults:
    """Filled in by the benchmark test through the `cycle_results` fixture."""

    cycle_ms: list[float] = field(default_factory=list)
    step_ms: list[float] = field(default_factory=list)
    slots: int = 0

    @pytest.fixture
    def cycle_results(self) -> CycleResults:
        """Hand this object to the benchmark test."""
        return self


def main() -> int:
    """Run the benchmark test and print the figures."""
    sys.path.insert(0, str(REPO_ROOT))
    results = CycleResults()
    code = pytest.main(
        [
            str(BENCH_MODULE),
            "--rootdir",
            str(REPO_ROOT),
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:sugar",
            "--no-cov",
        ],
        plugins=[results],
    )
    if code != 0 or not results.cycle_ms:
        print(f"benchmark failed (pytest exit code {int(code)})", file=sys.stderr)
        return 1
    cycles = sorted(results.cycle_ms)
    print(
        f"{len(cycles)} cycles of a {results.slots}-slot plan: "
        f"min {cycles[0]:.1f} ms, median {statistics.median(cycles):.1f} ms, "
        f"max {cycles[-1]:.1f} ms; {len(results.step_ms)} loop steps, "
        f"longest {max(results.step_ms):.2f} ms"
    )
    print(
        f"cycle_ms={statistics.median(cycles):.1f} "
        f"loop_blocked_ms={max(results.step_ms):.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
