"""Tests of automatic control: the loop, its safety rules and manual commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import CONF_API_KEY, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.battery_optimizer.const import (
    CONF_DEVICE_SERIAL,
    CONF_FORCE_CHARGE_POWER_ENTITY,
    CONF_FORCE_DISCHARGE_POWER_ENTITY,
    CONF_HYSTERESIS_P,
    CONF_INVERTER,
    CONF_WORK_MODE_ENTITY,
    DOMAIN,
    INVERTER_FOXESS_MODBUS,
    INVERTER_SIMULATED,
)
from custom_components.battery_optimizer.control.loop import ControlLoop
from custom_components.battery_optimizer.coordinator import control_of
from custom_components.battery_optimizer.inverters.base import (
    SELF_USE,
    InverterCommand,
    InverterRateLimitedError,
    InverterUnavailableError,
    InverterWriteError,
    Reason,
)
from custom_components.battery_optimizer.inverters.simulated import SimulatedDriver
from custom_components.battery_optimizer.optimizer.model import Mode

from ..conftest import (
    ENTRY_ID,
    NOW,
    SLOT,
    FakeOctopus,
    advance,
    entity_id,
    setup_entry,
)
from .fixtures import (
    CHARGE_KW,
    FIRST_END,
    NO_BACKUP,
    RELEASE,
    FakeInverter,
    PlanFeed,
    driving,
    feeding,
    forced,
    make_plan,
)

FC, FD, SU, HOLD = (
    Mode.FORCE_CHARGE,
    Mode.FORCE_DISCHARGE,
    Mode.SELF_USE,
    Mode.HOLD,
)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def feed() -> Iterator[PlanFeed]:
    """Plans made by hand; Self Use throughout until a test says otherwise."""
    with feeding(PlanFeed()) as plans:
        yield plans


@pytest.fixture
def fake() -> Iterator[FakeInverter]:
    """The entry drives a recording fake inverter."""
    inverter = FakeInverter()
    with driving(inverter):
        yield inverter


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
    feed: PlanFeed,
    fake: FakeInverter,
) -> MockConfigEntry:
    """The entry set up at NOW, automatic control still off."""
    await setup_entry(hass, mock_config_entry)
    return mock_config_entry


def _control(entry: MockConfigEntry) -> ControlLoop:
    control = control_of(entry)
    assert control is not None
    return control


async def _switch(hass: HomeAssistant, on: bool) -> None:
    await hass.services.async_call(
        "switch",
        "turn_on" if on else "turn_off",
        {"entity_id": entity_id(hass, "switch", "automatic_control")},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)


async def _replan(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await _control(entry).coordinator.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)


async def _set_mode(hass: HomeAssistant, **data: Any) -> None:
    await hass.services.async_call(
        DOMAIN, "set_mode", {"config_entry": ENTRY_ID, **data}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)


async def _minutes(
    hass: HomeAssistant, frozen_now: FrozenDateTimeFactory, minutes: int
) -> None:
    """Let time pass a minute at a time, as it does between re-plans."""
    for _ in range(minutes):
        await advance(hass, frozen_now, MINUTE)


def _issue(hass: HomeAssistant, key: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{key}_{ENTRY_ID}")


async def test_switch_off_means_no_writes(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    feed: PlanFeed,
    fake: FakeInverter,
    frozen_now: FrozenDateTimeFactory,
) -> None:
    """With the switch off the plan is only recommended: the inverter is not touched."""
    feed.plan = make_plan([FC, FC, SU])
    await _replan(hass, entry)
    await advance(hass, frozen_now, 20 * MINUTE)
    assert feed.refreshes > 2
    assert fake.calls == []


async def test_switch_on_applies_the_run_and_skips_unchanged(
    hass: HomeAssistant, entry: MockConfigEntry, feed: PlanFeed, fake: FakeInverter
) -> None:
    """The first slot's run is written once, with its end, power and target; then only read."""
    feed.plan = make_plan([FC, FC, SU, SU])
    await _replan(hass, entry)
    await _switch(hass, True)
    assert fake.calls == [
        ("read", None),
        forced(FC, FIRST_END + SLOT, CHARGE_KW, 75.0),
        ("read", None),
    ]

    await _replan(hass, entry)
    assert fake.calls[3:] == [("read", None)]


async def test_release_at_until(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    feed: PlanFeed,
    fake: FakeInverter,
    frozen_now: FrozenDateTimeFactory,
) -> None:
    """A forced mode ends at its `until`: the loop releases the inverter itself."""
    feed.plan = make_plan([FC, SU, SU, SU])
    await _replan(hass, entry)
    await _switch(hass, True)
    await _minutes(hass, frozen_now, 22)
    assert fake.writes == [forced(FC, FIRST_END, CHARGE_KW, 65.0)]

    await _minutes(hass, frozen_now, 1)
    assert fake.writes == [forced(FC, FIRST_END, CHARGE_KW, 65.0), RELEASE]
    assert fake.command == SELF_USE


async def test_stale_plan_returns_to_self_use(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    feed: PlanFeed,
    fake: FakeInverter,
    frozen_now: FrozenDateTimeFactory,
) -> None:
    """No fresh plan for 15 minutes: Self Use, although the old plan wanted more."""
    feed.plan = make_plan([FC] * 8)
    await _replan(hass, entry)
    await _switch(hass, True)
    feed.fail = True
    await _minutes(hass, frozen_now, 14)
    assert fake.writes == [forced(FC, FIRST_END + 7 * SLOT, CHARGE_KW, 100.0)]

    await _minutes(hass, frozen_now, 2)
    assert fake.writes[1:] == [RELEASE]
    assert fake.command == SELF_USE


async def test_unload_returns_to_self_use(
    hass: HomeAssistant, entry: MockConfigEntry, feed: PlanFeed, fake: FakeInverter
) -> None:
    """Unloading the entry leaves no forced mode behind."""
    feed.plan = make_plan([FD, FD, SU])
    await _replan(hass, entry)
    await _switch(hass, True)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert fake.writes == [
        ("apply", InverterCommand(FD, FIRST_END + SLOT, 2.5, 35.0)),
        RELEASE,
    ]
    assert fake.command == SELF_USE


async def test_unload_leaves_an_inverter_the_loop_never_drove(
    hass: HomeAssistant, entry: MockConfigEntry, fake: FakeInverter
) -> None:
    """With control off the user's own settings survive a reload."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert fake.calls == []


async def test_home_assistant_stop_returns_to_self_use(
    hass: HomeAssistant, entry: MockConfigEntry, feed: PlanFeed, fake: FakeInverter
) -> None:
    """Home Assistant stopping releases the inverter before it goes."""
    feed.plan = make_plan([HOLD, HOLD])
    await _replan(hass, entry)
    await _switch(hass, True)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert fake.writes == [
        ("apply", InverterCommand(HOLD, FIRST_END + SLOT)),
        RELEASE,
    ]


async def test_failed_write_is_retried_once_then_reported(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    feed: PlanFeed,
    fake: FakeInverter,
    frozen_now: FrozenDateTimeFactory,
) -> None:
    """Two failed writes raise a repair issue; the next success clears it."""
    feed.plan = make_plan([FC, SU])
    fake.failures = [InverterWriteError(Reason.WRITE_FAILED, "bus timeout")] * 2
    await _replan(hass, entry)
    # The user who turned control on hears that the inverter did not take it.
    with pytest.raises(HomeAssistantError) as failed:
        await _switch(hass, True)
    assert failed.value.translation_key == "inverter_command_failed"
    command = forced(FC, FIRST_END, CHARGE_KW, 65.0)
    assert fake.calls == [("read", None), command, command]
    issue = _issue(hass, "control_write_failed")
    assert issue is not None
    assert issue.translation_key == "control_write_failed"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["mode"] == "force_charge"

    # The same command waits a while rather than hammering a broken link.
    await _replan(hass, entry)
    assert fake.writes == [command, command]

    await advance(hass, frozen_now, 5 * MINUTE)
    assert fake.writes == [command, command, command]
    assert fake.command.mode is FC
    assert _issue(hass, "control_write_failed") is None


async def test_a_refused_key_asks_for_a_new_one_and_warns_once(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    feed: PlanFeed,
    fake: FakeInverter,
    frozen_now: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Fox Cloud refusing the key starts re-authentication, not a repair issue."""
    hass.config_entries.async_update_entry(
        entry,
        data={**entry.data, CONF_API_KEY: "old-key", CONF_DEVICE_SERIAL: "60BH372"},
    )
    feed.plan = make_plan([FC, FC, SU])
    refused = InverterUnavailableError(Reason.INVALID_AUTH, "errno 40256")
    fake.failures = [refused] * 4
    await _replan(hass, entry)
    # The user who turned control on hears that the inverter did not take it.
    with pytest.raises(HomeAssistantError) as failed:
        await _switch(hass, True)
    assert failed.value.translation_key == "inverter_command_failed"
    await advance(hass, frozen_now, 5 * MINUTE)
    await hass.async_block_till_done()

    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert _issue(hass, "control_write_failed") is None
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len([r for r in warnings if "Could not set the inverter" in r.message]) == 1
    # A refused key is not tried twice at once; once more after the wait.
    assert len(fake.writes) == 2


async def test_one_failure_then_success_raises_nothing(
    hass: HomeAssistant, entry: MockConfigEntry, feed: PlanFeed, fake: FakeInverter
) -> None:
    """The retry that succeeds is verified by reading back; no issue."""
    feed.plan = make_plan([HOLD, SU])
    fake.failures = [InverterWriteError(Reason.WRITE_FAILED, "bus timeout")]
    await _replan(hass, entry)
    await _switch(hass, True)
    hold = ("apply", InverterCommand(HOLD, FIRST_END))
    assert fake.calls == [("read", None), hold, hold, ("read", None)]
    assert _issue(hass, "control_write_failed") is None


async def test_write_that_does_not_read_back_is_reported(
    hass: HomeAssistant, entry: MockConfigEntry, feed: PlanFeed, fake: FakeInverter
) -> None:
    """A write the inverter silently ignores counts as failed."""
    feed.plan = make_plan([HOLD, SU])
    fake.ignore_writes = True
    await _replan(hass, entry)
    # The user who turned control on hears that the inverter did not take it.
    with pytest.raises(HomeAssistantError) as failed:
        await _switch(hass, True)
    assert failed.value.translation_key == "inverter_command_failed"
    hold = ("apply", InverterCommand(HOLD, FIRST_END))
    read = ("read", None)
    assert fake.calls == [read, hold, read, hold, read]
    assert _issue(hass, "control_write_failed") is not None


async def test_rate_limit_is_reported_without_retrying_at_once(
    hass: HomeAssistant, entry: MockConfigEntry, feed: PlanFeed, fake: FakeInverter
) -> None:
    """Fox Cloud asking to slow down gets its own issue and no second call."""
    feed.plan = make_plan([HOLD, SU])
    fake.failures = [InverterRateLimitedError(Reason.RATE_LIMITED, "errno 40400")]
    await _replan(hass, entry)
    # The user who turned control on hears that the inverter did not take it.
    with pytest.raises(HomeAssistantError) as failed:
        await _switch(hass, True)
    assert failed.value.translation_key == "inverter_command_failed"
    assert len(fake.writes) == 1
    assert _issue(hass, "control_rate_limited") is not None
    assert _issue(hass, "control_write_failed") is None


async def test_hysteresis_keeps_the_mode_for_a_small_gain(
    hass: HomeAssistant, entry: MockConfigEntry, feed: PlanFeed, fake: FakeInverter
) -> None:
    """A plan flipping to Hold for less than 1p a slot does not reach the inverter."""
    await _switch(hass, True)
    assert fake.writes == []
    # Holding 0.25 kWh at 20p saves less than discharging it now, valued at 15p.
    feed.plan = make_plan([HOLD, HOLD, SU], terminal_value_p=15.0)
    await _replan(hass, entry)
    assert fake.writes == []

    # Worth 30p later, keeping it in the battery gains about 3p: the mode changes.
    feed.plan = make_plan([HOLD, HOLD, SU], terminal_value_p=30.0)
    await _replan(hass, entry)
    assert fake.writes == [("apply", InverterCommand(HOLD, FIRST_END + SLOT))]


async def test_hysteresis_threshold_comes_from_the_options(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
    feed: PlanFeed,
    fake: FakeInverter,
) -> None:
    """A threshold of 0 follows every change of the plan."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={**mock_config_entry.options, CONF_HYSTERESIS_P: 0.0},
    )
    await setup_entry(hass, mock_config_entry)
    await _switch(hass, True)
    feed.plan = make_plan([HOLD, HOLD, SU], terminal_value_p=15.0)
    await _replan(hass, mock_config_entry)
    assert fake.writes == [("apply", InverterCommand(HOLD, FIRST_END + SLOT))]


async def test_manual_mode_holds_until_it_expires(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    feed: PlanFeed,
    fake: FakeInverter,
    frozen_now: FrozenDateTimeFactory,
) -> None:
    """set_mode overrides the plan until its end; then the plan takes over."""
    await _switch(hass, True)
    await _set_mode(
        hass,
        mode="force_discharge",
        power_kw=2.0,
        target_soc=30,
        duration={"minutes": 20},
    )
    manual = ("apply", InverterCommand(FD, NOW + 20 * MINUTE, 2.0, 30.0))
    assert fake.writes == [manual]
    switch = hass.states.get(entity_id(hass, "switch", "automatic_control"))
    assert switch is not None
    assert switch.attributes["manual_mode"] == "force_discharge"

    await _replan(hass, entry)
    await _minutes(hass, frozen_now, 19)
    assert fake.writes == [manual]

    await _minutes(hass, frozen_now, 1)
    assert fake.writes == [manual, RELEASE]
    assert _control(entry).override is None


async def test_resume_hands_control_back_to_the_plan(
    hass: HomeAssistant, entry: MockConfigEntry, feed: PlanFeed, fake: FakeInverter
) -> None:
    """resume ends a manual mode at once and applies the plan."""
    feed.plan = make_plan([FC, FC, SU])
    await _replan(hass, entry)
    await _switch(hass, True)
    await _set_mode(hass, mode="hold", duration={"hours": 1})
    await hass.services.async_call(
        DOMAIN, "resume", {"config_entry": ENTRY_ID}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    plan = forced(FC, FIRST_END + SLOT, CHARGE_KW, 75.0)
    assert fake.writes == [
        plan,
        ("apply", InverterCommand(HOLD, NOW + timedelta(hours=1))),
        plan,
    ]


async def test_manual_mode_with_control_off_ends_in_self_use(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    fake: FakeInverter,
    frozen_now: FrozenDateTimeFactory,
) -> None:
    """Without automatic control a manual mode still ends, in Self Use."""
    await _set_mode(hass, mode="force_charge", current_a=50, duration={"minutes": 10})
    # 50 A at the battery's 52 V.
    manual = ("apply", InverterCommand(FC, NOW + 10 * MINUTE, 2.6, None))
    assert fake.writes == [manual]
    await advance(hass, frozen_now, 10 * MINUTE)
    await advance(hass, frozen_now, 10 * MINUTE)
    assert fake.writes == [manual, RELEASE]


async def test_manual_self_use_holds_against_the_plan(
    hass: HomeAssistant, entry: MockConfigEntry, feed: PlanFeed, fake: FakeInverter
) -> None:
    """Self Use by hand keeps a planned force charge off the inverter."""
    await _switch(hass, True)
    await _set_mode(hass, mode="self_use", duration={"minutes": 30})
    feed.plan = make_plan([FC, SU])
    await _replan(hass, entry)
    assert fake.writes == []


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"mode": "force_charge", "power_kw": 2, "current_a": 40}, "power_and_current"),
        ({"mode": "force_charge", "power_kw": 9.0}, "power_out_of_range"),
        ({"mode": "force_discharge", "power_kw": -1.0}, "power_out_of_range"),
        ({"mode": "force_charge", "current_a": 200}, "current_out_of_range"),
        ({"mode": "force_charge", "target_soc": 120}, "soc_out_of_range"),
        ({"mode": "hold", "duration": {"minutes": 0}}, "invalid_duration"),
        ({"mode": "self_use", "duration": {"hours": 24}}, "invalid_duration"),
    ],
)
async def test_bad_manual_values_change_nothing(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    fake: FakeInverter,
    data: dict[str, Any],
    key: str,
) -> None:
    """Each bad value gets its translated error and the inverter is not touched."""
    with pytest.raises(ServiceValidationError) as err:
        await _set_mode(hass, **data)
    assert err.value.translation_key == key
    assert fake.calls == []
    assert _control(entry).override is None


async def test_mode_the_inverter_cannot_set(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
    feed: PlanFeed,
) -> None:
    """Hold on an inverter without a back-up mode is refused by name."""
    inverter = FakeInverter(NO_BACKUP)
    with driving(inverter):
        await setup_entry(hass, mock_config_entry)
    with pytest.raises(ServiceValidationError) as err:
        await _set_mode(hass, mode="hold")
    assert err.value.translation_key == "mode_unsupported"
    assert err.value.translation_placeholders == {"mode": "hold"}
    assert inverter.calls == []


@pytest.mark.usefixtures("init_integration")
async def test_manual_actions_need_an_inverter(hass: HomeAssistant) -> None:
    """A recommend-only entry says how to add an inverter."""
    for service, data in (("set_mode", {"mode": "hold"}), ("resume", {})):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN, service, {"config_entry": ENTRY_ID, **data}, blocking=True
            )
        assert err.value.translation_key == "no_inverter"


async def test_simulated_inverter_follows_the_plan(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
    feed: PlanFeed,
) -> None:
    """The simulated driver charges when the plan force-charges, written once."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        data={**mock_config_entry.data, CONF_INVERTER: INVERTER_SIMULATED},
    )
    feed.plan = make_plan([FC, FC, SU])
    await setup_entry(hass, mock_config_entry)
    driver = _control(mock_config_entry).driver
    assert isinstance(driver, SimulatedDriver)
    assert driver.soc_pct == pytest.approx(55.0)
    await _switch(hass, True)
    # Time passes as it does in a running Home Assistant, a re-plan every five
    # minutes: one jump of 20 would leave the loop a plan older than its
    # 15-minute limit, which it rightly answers with Self Use.
    for _ in range(4):
        await advance(hass, frozen_now, 5 * MINUTE)
    assert driver.command.mode is FC
    assert driver.soc_pct > 60.0
    assert driver.totals.writes == 1


async def test_foxess_modbus_entities_are_driven_in_order(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
    feed: PlanFeed,
) -> None:
    """Force charge through the power number and work mode, then Self Use at its end."""
    calls: list[tuple[str, dict[str, Any]]] = []

    async def handle(call: ServiceCall) -> None:
        calls.append((f"{call.domain}.{call.service}", dict(call.data)))
        value = call.data.get("option", call.data.get("value"))
        state = hass.states.get(call.data["entity_id"])
        assert state is not None
        hass.states.async_set(call.data["entity_id"], str(value), state.attributes)

    hass.services.async_register("select", "select_option", handle)
    hass.services.async_register("number", "set_value", handle)
    hass.states.async_set("select.work_mode", "Self Use")
    for number in ("number.force_charge_power", "number.force_discharge_power"):
        hass.states.async_set(number, "1.0", {"min": 0, "max": 4.6})
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        data={
            **mock_config_entry.data,
            CONF_INVERTER: INVERTER_FOXESS_MODBUS,
            CONF_WORK_MODE_ENTITY: "select.work_mode",
            CONF_FORCE_CHARGE_POWER_ENTITY: "number.force_charge_power",
            CONF_FORCE_DISCHARGE_POWER_ENTITY: "number.force_discharge_power",
        },
    )
    feed.plan = make_plan([FC, SU, SU])
    await setup_entry(hass, mock_config_entry)
    await _switch(hass, True)
    assert calls == [
        (
            "number.set_value",
            {"entity_id": "number.force_charge_power", "value": CHARGE_KW},
        ),
        (
            "select.select_option",
            {"entity_id": "select.work_mode", "option": "Force Charge"},
        ),
    ]
    await _minutes(hass, frozen_now, 23)
    assert calls[2:] == [
        (
            "select.select_option",
            {"entity_id": "select.work_mode", "option": "Self Use"},
        )
    ]


async def test_set_mode_and_resume_say_when_the_inverter_does_not_take_them(
    hass: HomeAssistant, entry: MockConfigEntry, fake: FakeInverter
) -> None:
    """A manual command that does not reach the inverter fails the action."""
    fake.failures = [InverterWriteError(Reason.WRITE_FAILED, "bus timeout")] * 4
    with pytest.raises(HomeAssistantError) as failed:
        await _set_mode(hass, mode="hold", duration={"hours": 1})
    assert failed.value.translation_key == "inverter_command_failed"
    assert failed.value.translation_placeholders == {
        "mode": "hold",
        "error": "bus timeout",
    }
    # Nothing is left pending: the user decides whether to ask again.
    assert _control(entry).override is None

    fake.failures = []
    await _set_mode(hass, mode="hold", duration={"hours": 1})
    assert fake.command.mode is HOLD
