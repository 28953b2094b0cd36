"""Automatic and manual control against the foxess_modbus stand-in.

The stand-in's entities follow a write only after its next poll and read
`unknown` until its first one, as foxess_modbus's do: the control loop must
wait for them instead of calling a write that is on its way a failure.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.battery_optimizer.const import (
    CONF_FOXESS_DEVICE,
    CONF_INVERTER,
    CONF_SOC_ENTITY,
    DOMAIN,
    INVERTER_FOXESS_MODBUS,
)

from ..conftest import ENTRY_ID, FakeOctopus, setup_entry
from ..foxess_modbus_stand_in.fixtures import (
    async_poll,
    async_setup_stand_in,
    foxess_modbus_stand_in,
    stand_in_device_id,
)

pytestmark = pytest.mark.usefixtures(foxess_modbus_stand_in.__name__)

POLL = timedelta(seconds=5)
WORK_MODE = "select.work_mode"
STAND_IN_SOC = "sensor.battery_soc"


def _writes(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Record every select and number write the loop sends."""
    calls: list[dict[str, Any]] = []

    def record(event: Event) -> None:
        if event.data["domain"] in ("select", "number"):
            calls.append(dict(event.data["service_data"]))

    hass.bus.async_listen(EVENT_CALL_SERVICE, record)
    return calls


async def _optimizer_entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, stand_in: MockConfigEntry
) -> MockConfigEntry:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        data={
            **mock_config_entry.data,
            CONF_SOC_ENTITY: STAND_IN_SOC,
            CONF_INVERTER: INVERTER_FOXESS_MODBUS,
            CONF_FOXESS_DEVICE: stand_in_device_id(hass, stand_in),
        },
    )
    await setup_entry(hass, mock_config_entry)
    return mock_config_entry


def _control_issues(hass: HomeAssistant) -> list[str]:
    return [
        issue_id
        for (domain, issue_id) in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.startswith("control_")
    ]


async def _tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Move time on while an action is waiting (block_till_done would wait for it)."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    for _ in range(20):
        await asyncio.sleep(0)


async def _set_mode(hass: HomeAssistant, **data: Any) -> asyncio.Task[Any]:
    """Call set_mode without waiting, as a user's action does while time goes on."""
    task = hass.async_create_task(
        hass.services.async_call(
            DOMAIN, "set_mode", {"config_entry": ENTRY_ID, **data}, blocking=True
        )
    )
    await asyncio.sleep(0)
    return task


async def test_a_write_shown_on_the_next_poll_is_not_a_failure(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Force Discharge reads back after a poll: one write, no repair issue."""
    stand_in = await async_setup_stand_in(
        hass, poll_rate=POLL.total_seconds(), echo_writes=False, soc=80
    )
    await async_poll(hass, frozen_now, POLL)
    await _optimizer_entry(hass, mock_config_entry, stand_in)
    writes = _writes(hass)

    task = await _set_mode(
        hass, mode="force_discharge", power_kw=2.0, duration={"minutes": 30}
    )
    for _ in range(10):
        await asyncio.sleep(0)
    assert not task.done()  # waiting for the entities, not writing again
    assert hass.states.get(WORK_MODE).state == "Self Use"
    await _tick(hass, frozen_now, POLL)
    await task

    assert hass.states.get(WORK_MODE).state == "Force Discharge"
    assert [w for w in writes if "option" in w] == [
        {"entity_id": WORK_MODE, "option": "Force Discharge"}
    ]
    assert _control_issues(hass) == []


async def test_a_write_that_never_shows_fails_the_action_once(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    mock_config_entry: MockConfigEntry,
) -> None:
    """An inverter that stops answering: the write is given time, then reported."""
    stand_in = await async_setup_stand_in(
        hass, poll_rate=POLL.total_seconds(), echo_writes=False, soc=80
    )
    await async_poll(hass, frozen_now, POLL)
    await _optimizer_entry(hass, mock_config_entry, stand_in)
    for _ in range(40):  # well past start-up
        await async_poll(hass, frozen_now, POLL)
    await hass.services.async_call(
        "foxess_modbus", "stand_in_fail_polls", {"count": -1}, blocking=True
    )
    writes = _writes(hass)
    task = await _set_mode(hass, mode="hold", duration={"minutes": 30})
    for _ in range(20):
        await _tick(hass, frozen_now, POLL)
    with pytest.raises(HomeAssistantError) as failed:
        await task
    assert failed.value.translation_key == "inverter_command_failed"
    # Its entities went unavailable while the loop waited: nothing is written
    # to them a second time.
    assert [w for w in writes if "option" in w] == [
        {"entity_id": WORK_MODE, "option": "Back-up"}
    ]
    assert _control_issues(hass) == [f"control_write_failed_{ENTRY_ID}"]


async def test_force_charge_stops_at_its_target(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    mock_config_entry: MockConfigEntry,
) -> None:
    """foxess_modbus would charge on to Max SoC; the loop releases at 60 %."""
    minute = timedelta(minutes=1)
    stand_in = await async_setup_stand_in(hass, poll_rate=60, soc=55)
    await async_poll(hass, frozen_now, minute)
    await _optimizer_entry(hass, mock_config_entry, stand_in)

    await hass.services.async_call(
        DOMAIN,
        "set_mode",
        {
            "config_entry": ENTRY_ID,
            "mode": "force_charge",
            "power_kw": 3.0,
            "target_soc": 60,
            "duration": {"hours": 2},
        },
        blocking=True,
    )
    socs = []
    for _ in range(40):
        await async_poll(hass, frozen_now, minute)
        socs.append(float(hass.states.get(STAND_IN_SOC).state))

    assert max(socs) >= 60
    assert max(socs) <= 61
    assert hass.states.get(WORK_MODE).state == "Self Use"
    assert not stand_in.runtime_data.hardware.remote_active
    assert _control_issues(hass) == []


async def test_inverter_coming_up_after_us_raises_nothing(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Entities `unknown` until foxess_modbus's first poll: no error, no issue."""
    stand_in = await async_setup_stand_in(
        hass, poll_rate=POLL.total_seconds(), first_poll_delay=30, soc=80
    )
    assert hass.states.get(WORK_MODE).state == "unknown"
    await _optimizer_entry(hass, mock_config_entry, stand_in)
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": "switch.battery_optimizer_london_automatic_control"},
        blocking=True,
    )
    assert _control_issues(hass) == []
    for _ in range(24):  # two minutes: the first poll, then the loop's tick
        await async_poll(hass, frozen_now, POLL)
    assert hass.states.get(WORK_MODE).state != "unknown"
    assert _control_issues(hass) == []
    control = mock_config_entry.runtime_data.control
    assert control is not None
    assert control.applied is not None
