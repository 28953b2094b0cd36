"""Benchmarks and backtests on the real data in ../shared/data.

Run a benchmark as a script from the repository root, for example
`.venv/bin/python benchmarks/solver.py`.
"""

from __future__ import annotations

from pathlib import Path
import sys
import types

REPO_ROOT = Path(__file__).resolve().parents[1]
_PARENT_PACKAGES = ("custom_components", "custom_components.battery_optimizer")


def isolate_optimizer() -> None:
    """Make the optimizer importable without loading Home Assistant.

    The integration package imports Home Assistant on import, but the optimizer
    below it does not; stand-in parent packages let a benchmark measure the
    optimizer's own time and memory.
    """
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    for name in _PARENT_PACKAGES:
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [str(REPO_ROOT.joinpath(*name.split(".")))]
            sys.modules[name] = package
