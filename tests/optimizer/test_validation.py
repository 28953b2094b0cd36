"""Invalid optimizer inputs are rejected with an error naming the field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import itertools
import math
from typing import Any, cast

import pytest

from custom_components.battery_optimizer.optimizer import optimize
from custom_components.battery_optimizer.optimizer.model import (
    Battery,
    Inputs,
    InvalidInputError,
    PlanStatus,
    RuleSettings,
    Site,
)
from custom_components.battery_optimizer.optimizer.rules import plan_rules

START = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
N = 4
INPUTS = Inputs(
    starts=tuple(START + timedelta(minutes=30 * t) for t in range(N)),
    durations_h=(0.5,) * N,
    import_price_p_per_kwh=(12.0, 30.0, 8.0, 20.0),
    export_price_p_per_kwh=(5.0, 15.0, 3.0, 8.0),
    pv_kw=(0.0, 0.0, 1.0, 2.0),
    load_kw=(0.8, 1.5, 0.4, 0.6),
    initial_soc_pct=50.0,
)
BATTERY = Battery(capacity_kwh=8.0, charge_limit_kw=3.0, discharge_limit_kw=3.0)
SITE = Site()


def _with_price(t: int, value: Any) -> tuple[float, ...]:
    prices = list(INPUTS.import_price_p_per_kwh)
    prices[t] = value
    return cast(tuple[float, ...], tuple(prices))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"import_price_p_per_kwh": _with_price(1, math.nan)},
            "import_price_p_per_kwh",
        ),
        ({"import_price_p_per_kwh": _with_price(2, None)}, "import_price_p_per_kwh"),
        (
            {"export_price_p_per_kwh": (5.0, math.inf, 3.0, 8.0)},
            "export_price_p_per_kwh",
        ),
        ({"pv_kw": (0.0, 0.0, 1.0)}, "pv_kw"),
        ({"load_kw": (0.8, 1.5, 0.4, 0.6, 0.7)}, "load_kw"),
        ({"load_kw": (0.8, -1.5, 0.4, 0.6)}, "load_kw"),
        ({"price_is_forecast": (False, True)}, "price_is_forecast"),
        ({"initial_soc_pct": -0.1}, "initial_soc_pct"),
        ({"initial_soc_pct": 100.5}, "initial_soc_pct"),
        ({"initial_soc_pct": math.nan}, "initial_soc_pct"),
        ({"durations_h": (0.5, 0.0, 0.5, 0.5)}, "durations_h"),
        ({"terminal_value_p_per_kwh": math.nan}, "terminal_value_p_per_kwh"),
        (
            {
                "starts": (),
                "durations_h": (),
                "import_price_p_per_kwh": (),
                "export_price_p_per_kwh": (),
                "pv_kw": (),
                "load_kw": (),
            },
            "starts",
        ),
    ],
)
def test_bad_inputs_name_the_field(changes: dict[str, Any], field: str) -> None:
    bad = replace(INPUTS, **changes)
    with pytest.raises(InvalidInputError) as err:
        optimize(bad, BATTERY, SITE)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}:")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reserve_soc_pct": 60.0, "max_soc_pct": 50.0}, "reserve_soc_pct"),
        ({"capacity_kwh": 0.0}, "capacity_kwh"),
        ({"capacity_kwh": -5.0}, "capacity_kwh"),
        ({"charge_limit_kw": -1.0}, "charge_limit_kw"),
        ({"discharge_limit_kw": -0.5}, "discharge_limit_kw"),
        ({"charge_efficiency": 0.0}, "charge_efficiency"),
        ({"discharge_efficiency": 1.2}, "discharge_efficiency"),
        ({"cycle_cost_p_per_kwh": math.nan}, "cycle_cost_p_per_kwh"),
    ],
)
def test_bad_battery_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        optimize(INPUTS, replace(BATTERY, **changes), SITE)
    assert err.value.field == field
    assert field in str(err.value)


@pytest.mark.parametrize(
    "field", ["import_limit_kw", "export_limit_kw", "inverter_ac_limit_kw"]
)
def test_negative_site_limit_names_the_field(field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        optimize(INPUTS, BATTERY, replace(SITE, **{field: -1.0}))
    assert err.value.field == field


def test_rules_planner_validates_too() -> None:
    with pytest.raises(InvalidInputError) as err:
        plan_rules(replace(INPUTS, pv_kw=(1.0,)), BATTERY, SITE, RuleSettings())
    assert err.value.field == "pv_kw"


@pytest.mark.parametrize("soc_pct", [0.0, 4.0])
def test_start_below_reserve_is_valid_and_recovers(soc_pct: float) -> None:
    plan = optimize(replace(INPUTS, initial_soc_pct=soc_pct), BATTERY, SITE)
    assert plan.status is PlanStatus.OPTIMAL
    socs = [plan.initial_soc_kwh, *(slot.soc_end_kwh for slot in plan.slots)]
    assert plan.initial_soc_kwh == pytest.approx(BATTERY.capacity_kwh * soc_pct / 100)
    # Below the reserve the battery may only fill up, never drain further.
    for before, after in itertools.pairwise(socs):
        assert after >= min(before, BATTERY.reserve_kwh) - 1e-6
