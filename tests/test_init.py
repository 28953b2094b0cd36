"""Setting up, unloading and reloading a Battery Optimizer entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.battery_optimizer.const import (
    CONF_CHEAP_THRESHOLD,
    CONF_EXPENSIVE_THRESHOLD,
    CONF_EXPORT_PRODUCT,
    CONF_IMPORT_PRODUCT,
    CONF_PRICE_SOURCE,
    DOMAIN,
    PRICE_SOURCE_DEMO,
)
from custom_components.battery_optimizer.tariffs.demo import (
    DEMO_EXPORT_PRODUCT,
    DEMO_IMPORT_PRODUCT,
)
from custom_components.battery_optimizer.tariffs.octopus import tariff_code

from .conftest import (
    AGILE_EXPORT,
    AGILE_IMPORT,
    ENTRY_ID,
    EXPORT_PRODUCT,
    IMPORT_PRODUCT,
    NOW,
    FakeOctopus,
    entry_data,
    entry_options,
    setup_entry,
    state_of,
)


async def test_setup_and_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A loaded entry has a plan and entities; unloading leaves them unavailable."""
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.plan.data.plan is not None
    assert state_of(hass, "sensor", "recommended_mode").state != STATE_UNAVAILABLE

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    # The state attribute changed under the unload; mypy narrowed it above.
    state: ConfigEntryState = entry.state
    assert state is ConfigEntryState.NOT_LOADED
    assert state_of(hass, "sensor", "recommended_mode").state == STATE_UNAVAILABLE


async def test_not_ready_without_prices(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Octopus down and nothing cached: the entry retries later."""
    octopus.fail = True
    await setup_entry(hass, mock_config_entry)

    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert octopus.calls


def _cached_prices() -> dict[str, Any]:
    """A price cache on disk as an earlier run left it."""

    def rows(rates: list[Any]) -> list[list[Any]]:
        return [
            [r.start.isoformat(), r.end.isoformat(), r.price_p_per_kwh]
            for r in rates
            if NOW - timedelta(hours=1) <= r.start < NOW + timedelta(hours=24)
        ]

    key = f"{DOMAIN}.prices.{ENTRY_ID}"
    return {
        key: {
            "version": 1,
            "minor_version": 1,
            "key": key,
            "data": {
                "import_tariff": tariff_code(IMPORT_PRODUCT, "C"),
                "export_tariff": tariff_code(EXPORT_PRODUCT, "C"),
                "fetched_at": (NOW - timedelta(hours=1)).isoformat(),
                "import": rows(AGILE_IMPORT),
                "export": rows(AGILE_EXPORT),
            },
        }
    }


async def test_setup_from_cached_prices(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Octopus down but prices cached: the entry loads and plans on the cache."""
    hass_storage.update(_cached_prices())
    octopus.fail = True
    await setup_entry(hass, mock_config_entry)

    assert mock_config_entry.state is ConfigEntryState.LOADED
    result = mock_config_entry.runtime_data.plan.data
    assert result.plan is not None
    # The cache holds rates starting up to 24 h ahead: the last one ends at 10:30.
    assert result.prices_end == datetime(2022, 12, 28, 10, 30, tzinfo=UTC)


async def test_options_change_reloads(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """New thresholds reload the entry and the price level follows them."""
    entry = init_integration
    old_plan = entry.runtime_data.plan
    # 35.98p at NOW is expensive at the fixture's 30p threshold.
    assert state_of(hass, "sensor", "price_level").state == "expensive"

    hass.config_entries.async_update_entry(
        entry,
        options={
            **entry.options,
            CONF_CHEAP_THRESHOLD: 36.0,
            CONF_EXPENSIVE_THRESHOLD: 45.0,
        },
    )
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.plan is not old_plan
    assert entry.runtime_data.plan.data.settings.cheap_price_p_per_kwh == 36.0
    assert state_of(hass, "sensor", "price_level").state == "cheap"


async def test_setup_with_demo_prices(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
) -> None:
    """A demo entry plans on the stored week and never calls Octopus."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Battery Optimizer (demo)",
        data={
            **entry_data(),
            CONF_PRICE_SOURCE: PRICE_SOURCE_DEMO,
            CONF_IMPORT_PRODUCT: DEMO_IMPORT_PRODUCT,
            CONF_EXPORT_PRODUCT: DEMO_EXPORT_PRODUCT,
        },
        options=entry_options(),
    )
    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    assert octopus.calls == []
    result = entry.runtime_data.plan.data
    assert result.plan is not None
    assert result.import_price_now is not None
