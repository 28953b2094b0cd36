"""The optimizer package loads and runs without Home Assistant."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[2]
OPTIMIZER = ROOT / "custom_components" / "battery_optimizer" / "optimizer"

# The parent integration package imports Home Assistant, so it is stubbed to
# load the optimizer package alone, as backtests and the executor job do.
STUB_PARENTS = (
    "import sys, types\n"
    "for name, path in (('custom_components', 'custom_components'),\n"
    "        ('custom_components.battery_optimizer', 'custom_components/battery_optimizer')):\n"
    "    module = types.ModuleType(name)\n"
    "    module.__path__ = [path]\n"
    "    sys.modules[name] = module\n"
)


def _loaded_after(imports: str) -> list[str]:
    code = (
        STUB_PARENTS
        + imports
        + "import json\n"
        + "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules}\n"
        + "    & {'homeassistant', 'pulp'})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_every_optimizer_module_imports_without_home_assistant() -> None:
    modules = sorted(
        path.stem for path in OPTIMIZER.glob("*.py") if path.stem != "__init__"
    )
    assert {"lp", "rules", "model", "explain"} <= set(modules)
    imports = "".join(
        f"import custom_components.battery_optimizer.optimizer.{name}\n"
        for name in modules
    )
    # PuLP is heavy: only a solve may load it, never an import.
    assert _loaded_after(imports) == []


def test_the_stub_would_notice_home_assistant() -> None:
    """The check itself: a module that does import Home Assistant is seen."""
    assert _loaded_after("import homeassistant.util.dt\n") == ["homeassistant"]
