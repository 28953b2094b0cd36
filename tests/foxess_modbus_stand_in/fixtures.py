"""Fixtures and helpers that set up the foxess_modbus stand-in in a test.

Use from any test module:

    from tests.foxess_modbus_stand_in.fixtures import (
        async_poll,
        async_setup_stand_in,
        foxess_modbus_stand_in,  # noqa: F401 (a fixture)
    )

    async def test_x(hass, foxess_modbus_stand_in, freezer):
        entry = await async_setup_stand_in(hass, soc=40)
        await async_poll(hass, freezer)
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant import loader
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

STAND_IN_ROOT = Path(__file__).parent / "custom_components"
DOMAIN = "foxess_modbus"
ENTRY_ID = "01JFOXESSMODBUSSTANDIN0001"
# Fast enough for tests that wait in real time; freezer-driven tests tick it.
TEST_POLL_RATE_S = 0.2


@pytest.fixture
def foxess_modbus_stand_in(
    hass: HomeAssistant, enable_custom_integrations: None
) -> Generator[None]:
    """Let Home Assistant find the stand-in beside the repository's integration.

    Home Assistant looks for custom integrations in every folder of the
    `custom_components` package's `__path__`; the stand-in's folder is added
    for the test and the loader's cache is dropped so it looks again.
    """
    import custom_components

    paths = list(custom_components.__path__)
    custom_components.__path__[:] = [*paths, str(STAND_IN_ROOT)]
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
    try:
        yield
    finally:
        custom_components.__path__[:] = paths


def stand_in_entry(**options: Any) -> MockConfigEntry:
    """A stand-in entry: H1-G2 with remote control, polling every 0.2 s."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="FoxESS - Modbus (stand-in)",
        entry_id=ENTRY_ID,
        unique_id=options.get("friendly_name", "") or DOMAIN,
        data={"poll_rate": TEST_POLL_RATE_S, **options},
    )


async def async_setup_stand_in(
    hass: HomeAssistant, entry: MockConfigEntry | None = None, **options: Any
) -> MockConfigEntry:
    """Add and set up a stand-in entry; nothing is polled yet."""
    entry = entry or stand_in_entry(**options)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def async_poll(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    delta: timedelta = timedelta(seconds=TEST_POLL_RATE_S),
) -> None:
    """Move the clock on by `delta` and let the poll that fell due run."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def stand_in_device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """The device foxess_modbus registers, for find_foxess_modbus_entities."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1
    return devices[0].id
