"""The re-plan loop: timing, inputs, stale SoC, price coverage, fallbacks, threads."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime, timedelta
import threading
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.battery_optimizer import coordinator as coordinator_module
from custom_components.battery_optimizer.const import DOMAIN
from custom_components.battery_optimizer.entry.issues import (
    ISSUE_PRICE_COVERAGE,
    ISSUE_SOC_UNAVAILABLE,
)
from custom_components.battery_optimizer.entry.settings import (
    battery_from_entry,
    settings_from_entry,
    site_from_entry,
)
from custom_components.battery_optimizer.optimizer.lp import SolverError
from custom_components.battery_optimizer.optimizer.model import (
    InvalidInputError,
    Mode,
    PlanStatus,
)
from custom_components.battery_optimizer.optimizer.rules import plan_rules
from custom_components.battery_optimizer.plan import solve as planning

from .conftest import (
    AGILE_IMPORT,
    ENTRY_ID,
    LOAD_ENTITY,
    NOW,
    PV_ENTITY,
    SOC_ENTITY,
    FakeOctopus,
    advance,
    price_at,
    set_inverter_states,
    setup_entry,
    state_of,
)

# Some diagnostic sensors start disabled; these tests read them.
pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")

REPLAN = timedelta(minutes=5)
# 01:37 on 28 December: 0.23p/kWh, so the plan charges from the grid now.
CHEAP_NOW = datetime(2022, 12, 28, 1, 37, tzinfo=UTC)
SOC_ISSUE = f"{ISSUE_SOC_UNAVAILABLE}_{ENTRY_ID}"
COVERAGE_ISSUE = f"{ISSUE_PRICE_COVERAGE}_{ENTRY_ID}"


def _issue(hass: HomeAssistant, issue_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


async def test_replans_every_five_minutes(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
) -> None:
    """The plan is solved again on the re-plan interval, from the new now."""
    coordinator = init_integration.runtime_data.plan
    runs_before = len(coordinator.history)
    assert state_of(hass, "sensor", "last_plan").state == NOW.isoformat()

    await advance(hass, frozen_now, REPLAN)

    later = NOW + REPLAN
    assert state_of(hass, "sensor", "last_plan").state == later.isoformat()
    assert len(coordinator.history) == runs_before + 1
    assert coordinator.history[-1]["time"] == later.isoformat()
    assert coordinator.data.plan is not None
    assert coordinator.data.plan.slots[0].start == later


async def test_new_prices_trigger_a_replan(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
) -> None:
    """When Octopus publishes the next day the plan extends to it at once."""
    octopus.published_until = datetime(2022, 12, 27, 23, 0, tzinfo=UTC)
    await setup_entry(hass, mock_config_entry)
    coordinator = mock_config_entry.runtime_data.plan
    assert coordinator.data.prices_end == octopus.published_until
    runs_before = len(coordinator.history)

    # Before the re-plan interval, so only the new prices can cause a plan.
    frozen_now.tick(timedelta(minutes=1))
    octopus.published_until = datetime(2022, 12, 28, 23, 0, tzinfo=UTC)
    await mock_config_entry.runtime_data.prices.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)

    assert len(coordinator.history) == runs_before + 1
    assert coordinator.data.prices_end == octopus.published_until
    assert coordinator.data.plan is not None
    assert coordinator.data.plan.slots[-1].end == octopus.published_until
    attributes = state_of(hass, "sensor", "price_coverage").attributes
    assert attributes["prices_until"] == "2022-12-28T23:00:00+00:00"


async def test_inverter_readings_feed_the_first_slot(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """PV in kW and load in W reach the first slot in kW; later slots use the flat load."""
    result = init_integration.runtime_data.plan.data
    assert result.soc_pct == 55.0
    assert result.plan is not None
    first, second = result.plan.slots[:2]
    assert first.pv_kw == pytest.approx(0.8)
    assert first.load_kw == pytest.approx(0.45)
    assert second.pv_kw == 0.0
    assert second.load_kw == pytest.approx(0.4)
    assert result.plan.initial_soc_kwh == pytest.approx(10.4 * 0.55)
    assert result.import_price_now == price_at(AGILE_IMPORT, NOW)


async def test_unavailable_power_readings_fall_back_to_the_forecast(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
) -> None:
    """Without PV and load readings the first slot uses no PV and the flat load."""
    hass.states.async_set(PV_ENTITY, STATE_UNAVAILABLE)
    hass.states.async_remove(LOAD_ENTITY)
    await advance(hass, frozen_now, REPLAN)

    plan = init_integration.runtime_data.plan.data.plan
    assert plan is not None
    assert plan.slots[0].pv_kw == 0.0
    assert plan.slots[0].load_kw == pytest.approx(0.4)


async def test_battery_voltage_sets_the_charge_current(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The current in A follows the battery's measured voltage, not the nominal one."""
    freezer.move_to(CHEAP_NOW)
    await setup_entry(hass, mock_config_entry)
    result = mock_config_entry.runtime_data.plan.data
    assert result.plan is not None
    first = result.plan.slots[0]
    assert first.mode is Mode.FORCE_CHARGE
    assert first.charge_kw > 0
    assert result.recommendation.charge_current_a == pytest.approx(
        first.charge_kw * 1000 / 52.0, abs=0.05
    )


async def test_history_survives_a_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Runs stored by an earlier start are kept, and new runs are saved."""
    key = f"{DOMAIN}.history.{ENTRY_ID}"
    earlier = {
        "time": (NOW - timedelta(hours=1)).isoformat(),
        "status": "optimal",
        "objective_p": 12.5,
        "solve_ms": 9.0,
        "fallback": False,
    }
    hass_storage[key] = {
        "version": 1,
        "minor_version": 1,
        "key": key,
        "data": {"runs": [earlier]},
    }
    await setup_entry(hass, mock_config_entry)
    coordinator = mock_config_entry.runtime_data.plan
    assert coordinator.history[0] == earlier
    assert coordinator.history[1]["time"] == NOW.isoformat()

    await advance(hass, frozen_now, timedelta(seconds=31))

    saved = hass_storage[key]["data"]["runs"]
    assert saved[0] == earlier
    assert saved[-1]["status"] == "optimal"


async def test_soc_unavailable_keeps_the_last_reading_then_goes_safe(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Up to 15 minutes on the last SoC; then self use, a repair issue and a problem."""
    freezer.move_to(CHEAP_NOW)
    await setup_entry(hass, mock_config_entry)
    coordinator = mock_config_entry.runtime_data.plan
    assert coordinator.data.recommendation.mode is Mode.FORCE_CHARGE
    assert state_of(hass, "binary_sensor", "charging_recommended").state == STATE_ON

    hass.states.async_set(SOC_ENTITY, STATE_UNAVAILABLE)
    for _ in range(3):
        await advance(hass, freezer, REPLAN)
        assert coordinator.data.soc_pct == 55.0
        assert not coordinator.data.soc_stale
        assert coordinator.data.recommendation.mode is Mode.FORCE_CHARGE
        assert _issue(hass, SOC_ISSUE) is None

    await advance(hass, freezer, REPLAN)

    result = coordinator.data
    assert result.soc_stale
    assert result.recommendation.mode is Mode.SELF_USE
    assert result.recommendation.charge_current_a == 0.0
    assert SOC_ENTITY in result.recommendation.reason
    issue = _issue(hass, SOC_ISSUE)
    assert issue is not None
    assert issue.translation_key == ISSUE_SOC_UNAVAILABLE
    assert issue.translation_placeholders == {
        "entity_id": SOC_ENTITY,
        "title": mock_config_entry.title,
        "minutes": "15",
    }
    assert state_of(hass, "sensor", "recommended_mode").state == "self_use"
    assert state_of(hass, "binary_sensor", "charging_recommended").state == STATE_OFF
    problem = state_of(hass, "binary_sensor", "problem")
    assert problem.state == STATE_ON
    assert problem.attributes["problems"] == ["soc_unavailable"]

    hass.states.async_set(SOC_ENTITY, "60")
    # The state change starts a re-plan at once (an eager task on newer Home
    # Assistant); let it finish before the frozen clock jumps under the solver.
    await hass.async_block_till_done()
    await advance(hass, freezer, REPLAN)

    assert coordinator.data.soc_pct == 60.0
    assert not coordinator.data.soc_stale
    assert _issue(hass, SOC_ISSUE) is None
    assert state_of(hass, "binary_sensor", "problem").state == STATE_OFF


@pytest.mark.parametrize("soc", ["not a number", "130", "nan", STATE_UNAVAILABLE])
async def test_unusable_soc_at_start(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    mock_config_entry: MockConfigEntry,
    soc: str,
) -> None:
    """A SoC that is not a percentage at start gives self use and a problem."""
    set_inverter_states(hass, soc=soc)
    await setup_entry(hass, mock_config_entry)

    assert mock_config_entry.state is ConfigEntryState.LOADED
    result = mock_config_entry.runtime_data.plan.data
    assert result.soc_pct is None
    assert result.plan is None
    assert result.recommendation.mode is Mode.SELF_USE
    assert state_of(hass, "binary_sensor", "problem").state == STATE_ON
    # A repair only once it has stayed unusable as long as a reading may age.
    for _ in range(3):
        assert _issue(hass, SOC_ISSUE) is None
        await advance(hass, frozen_now, REPLAN)
    await advance(hass, frozen_now, REPLAN)
    assert _issue(hass, SOC_ISSUE) is not None


async def test_soc_entity_missing_at_start(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    mock_config_entry: MockConfigEntry,
) -> None:
    """No SoC entity at all: the entry still loads, in self use, with a problem."""
    await setup_entry(hass, mock_config_entry)

    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert state_of(hass, "sensor", "recommended_mode").state == "self_use"
    assert state_of(hass, "sensor", "solver_status").state == "no_plan"
    assert state_of(hass, "sensor", "recommended_charge_current").state == "0.0"
    problem = state_of(hass, "binary_sensor", "problem")
    assert problem.state == STATE_ON
    assert problem.attributes["problems"] == ["soc_unavailable", "no_plan"]
    assert _issue(hass, SOC_ISSUE) is None


async def test_soc_entity_that_loads_late_raises_no_issue(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    mock_config_entry: MockConfigEntry,
) -> None:
    """An inverter integration set up after this one is no fault; a lasting gap is."""
    await setup_entry(hass, mock_config_entry)
    await advance(hass, frozen_now, REPLAN)
    assert _issue(hass, SOC_ISSUE) is None

    set_inverter_states(hass)
    await hass.async_block_till_done()
    await advance(hass, frozen_now, REPLAN)

    assert state_of(hass, "sensor", "solver_status").state == "optimal"
    assert _issue(hass, SOC_ISSUE) is None


async def test_short_price_coverage_raises_an_issue(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Prices for under 95 % of the next 12 hours: an issue, and the plan stops there."""
    published_until = datetime(2022, 12, 27, 16, 0, tzinfo=UTC)
    octopus.published_until = published_until
    await setup_entry(hass, mock_config_entry)

    result = mock_config_entry.runtime_data.plan.data
    assert result.plan is not None
    assert result.plan.slots[-1].end == published_until
    # 5 h 53 min of the next 12 hours.
    assert result.price_coverage_12h_pct == pytest.approx(49.0, abs=0.1)
    issue = _issue(hass, COVERAGE_ISSUE)
    assert issue is not None
    assert issue.translation_placeholders == {
        "coverage": "49",
        "title": mock_config_entry.title,
    }
    coverage = state_of(hass, "sensor", "price_coverage")
    assert coverage.attributes["prices_until"] == published_until.isoformat()
    assert coverage.attributes["next_12_hours"] == pytest.approx(49.0, abs=0.1)
    problem = state_of(hass, "binary_sensor", "problem")
    assert problem.attributes["problems"] == ["price_coverage_low"]

    octopus.published_until = None
    await mock_config_entry.runtime_data.prices.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)

    assert _issue(hass, COVERAGE_ISSUE) is None
    assert state_of(hass, "sensor", "price_coverage").state == "100.0"
    assert state_of(hass, "binary_sensor", "problem").state == STATE_OFF


async def test_no_price_for_the_current_half_hour(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Only past prices: no plan, self use, and the reason says why."""
    octopus.published_until = datetime(2022, 12, 27, 10, 0, tzinfo=UTC)
    await setup_entry(hass, mock_config_entry)

    result = mock_config_entry.runtime_data.plan.data
    assert result.plan is None
    assert result.current_slot is None
    assert result.prices_end == octopus.published_until
    assert result.recommendation.mode is Mode.SELF_USE
    assert "No published prices" in result.recommendation.reason
    assert state_of(hass, "sensor", "price_coverage").state == "0.0"
    assert state_of(hass, "sensor", "import_price").state == "unknown"
    assert _issue(hass, COVERAGE_ISSUE) is not None


async def test_solver_failure_falls_back_to_the_rules(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
) -> None:
    """When the LP fails the plan is the rules plan, and it says so."""
    seen: list[tuple[Any, ...]] = []
    real_solve_plan = planning.solve_plan

    def recording_solve_plan(*args: Any) -> Any:
        seen.append(args)
        return real_solve_plan(*args)

    with (
        patch.object(coordinator_module, "solve_plan", recording_solve_plan),
        patch(
            "custom_components.battery_optimizer.optimizer.solve_lp",
            side_effect=SolverError(PlanStatus.FALLBACK_INFEASIBLE, "no plan"),
        ),
    ):
        await setup_entry(hass, mock_config_entry)

    entry = mock_config_entry
    plan = entry.runtime_data.plan.data.plan
    assert plan is not None
    assert plan.status is PlanStatus.FALLBACK_INFEASIBLE
    inputs = seen[0][0]
    rules = plan_rules(
        inputs,
        battery_from_entry(entry, 52.0),
        site_from_entry(entry),
        settings_from_entry(entry),
        dt_util.get_default_time_zone(),
    )
    assert plan.slots == rules.slots
    assert state_of(hass, "sensor", "solver_status").state == "fallback_infeasible"
    problem = state_of(hass, "binary_sensor", "problem")
    assert problem.state == STATE_ON
    assert problem.attributes["problems"] == ["solver_fallback"]
    assert entry.runtime_data.plan.history[-1]["fallback"] is True


async def test_invalid_inputs_mark_the_plan_failed(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
) -> None:
    """Inputs the optimizer rejects fail the update with a translated error."""
    coordinator = init_integration.runtime_data.plan
    with patch.object(
        coordinator_module,
        "solve_plan",
        side_effect=InvalidInputError("load_kw", "slot 0 must not be negative"),
    ):
        await advance(hass, frozen_now, REPLAN)

    assert not coordinator.last_update_success
    assert coordinator.last_exception is not None
    assert coordinator.last_exception.translation_key == "invalid_inputs"
    assert state_of(hass, "sensor", "recommended_mode").state == STATE_UNAVAILABLE


async def test_no_solver_work_on_the_event_loop(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Solving and importing PuLP happen in worker threads only."""
    loop_thread = threading.current_thread()
    solve_threads: list[threading.Thread] = []
    import_threads: list[threading.Thread] = []
    real_solve_plan = planning.solve_plan
    real_import = builtins.__import__

    def recording_solve_plan(*args: Any) -> Any:
        solve_threads.append(threading.current_thread())
        return real_solve_plan(*args)

    def recording_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.partition(".")[0] in ("pulp", "highspy"):
            import_threads.append(threading.current_thread())
        return real_import(name, *args, **kwargs)

    with (
        patch.object(coordinator_module, "solve_plan", recording_solve_plan),
        patch.object(builtins, "__import__", recording_import),
    ):
        await setup_entry(hass, mock_config_entry)
        await advance(hass, frozen_now, REPLAN)

    assert len(solve_threads) == 2
    assert loop_thread not in solve_threads
    # The LP imports PuLP where it runs, so the import was seen, off the loop.
    assert import_threads
    assert loop_thread not in import_threads


@pytest.mark.parametrize(
    ("state", "unit", "expected_kw"),
    [("450", "W", 0.45), ("1.2", "kW", 1.2), ("450", None, 0.4)],
)
async def test_live_load_power_is_read_in_its_unit(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    state: str,
    unit: str | None,
    expected_kw: float,
) -> None:
    """The half-hour under way uses the live load; a unitless reading is ignored."""
    attributes = {"device_class": "power"}
    if unit is not None:
        attributes["unit_of_measurement"] = unit
    hass.states.async_set(LOAD_ENTITY, state, attributes)
    coordinator = init_integration.runtime_data.plan

    await coordinator.async_refresh()

    plan = coordinator.data.plan
    assert plan is not None
    # Without a usable reading the slot keeps the flat 9.6 kWh a day (0.4 kW).
    assert plan.slots[0].load_kw == pytest.approx(expected_kw)
