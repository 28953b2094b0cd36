"""Setting up, unloading and reloading a Battery Optimizer entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.battery_optimizer.const import (
    CONF_CHEAP_THRESHOLD,
    CONF_EXPENSIVE_THRESHOLD,
    CONF_EXPORT_PRODUCT,
    CONF_EXPORT_RATE_ENTITIES,
    CONF_IMPORT_PRODUCT,
    CONF_PRICE_SOURCE,
    CONF_RATE_ENTITIES,
    CONF_SOC_ENTITY,
    DOMAIN,
    PRICE_SOURCE_DEMO,
    PRICE_SOURCE_OCTOPUS_ENERGY,
)
from custom_components.battery_optimizer.entry.issues import ISSUE_SOC_UNAVAILABLE
from custom_components.battery_optimizer.tariffs.demo import (
    DEMO_EXPORT_PRODUCT,
    DEMO_IMPORT_PRODUCT,
)
from custom_components.battery_optimizer.tariffs.octopus import Rate, tariff_code
from custom_components.battery_optimizer.tariffs.octopus_energy import (
    ENTITIES_EXPORT_PRODUCT,
    ENTITIES_IMPORT_PRODUCT,
)

from .conftest import (
    AGILE_EXPORT,
    AGILE_IMPORT,
    ENTRY_ID,
    EXPORT_PRODUCT,
    IMPORT_PRODUCT,
    NOW,
    TITLE,
    FakeOctopus,
    entity_id as conftest_entity_id,
    entry_data,
    entry_options,
    price_at,
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
    """New thresholds saved in the options reload the entry once; the level follows."""
    entry = init_integration
    old_plan = entry.runtime_data.plan
    # 35.98p at NOW is expensive at the fixture's 30p threshold.
    assert state_of(hass, "sensor", "price_level").state == "expensive"

    flow = await hass.config_entries.options.async_init(entry.entry_id)
    schema = flow["data_schema"]
    assert schema is not None
    shown = schema({})
    with patch.object(
        hass.config_entries, "async_reload", wraps=hass.config_entries.async_reload
    ) as reload:
        result = await hass.config_entries.options.async_configure(
            flow["flow_id"],
            {**shown, CONF_CHEAP_THRESHOLD: 36.0, CONF_EXPENSIVE_THRESHOLD: 45.0},
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert reload.call_count == 1

    # Saving the options unchanged reloads nothing.
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    schema = flow["data_schema"]
    assert schema is not None
    with patch.object(
        hass.config_entries, "async_reload", wraps=hass.config_entries.async_reload
    ) as reload:
        result = await hass.config_entries.options.async_configure(
            flow["flow_id"], {**entry.options}
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert reload.call_count == 0

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


def _rate_attributes(rates: list[Rate], day: datetime) -> dict[str, Any]:
    """A rate event entity's attributes for one UTC day, prices in GBP/kWh."""
    return {
        "rates": [
            {
                "start": rate.start.isoformat(),
                "end": rate.end.isoformat(),
                "value_inc_vat": rate.price_p_per_kwh / 100,
                "is_capped": False,
            }
            for rate in rates
            if day <= rate.start < day + timedelta(days=1)
        ]
    }


async def test_setup_with_octopus_energy_entities(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
) -> None:
    """Prices come from the rate entities, and new rates there re-plan at once."""
    meter = "event.octopus_energy_electricity_21l1234567_1012345678901"
    current, following = f"{meter}_current_day_rates", f"{meter}_next_day_rates"
    export = f"{meter}_export_current_day_rates"
    today = NOW.replace(hour=0, minute=0)
    tomorrow = today + timedelta(days=1)
    hass.states.async_set(
        current, today.isoformat(), _rate_attributes(AGILE_IMPORT, today)
    )
    hass.states.async_set(following, today.isoformat(), {"rates": []})
    hass.states.async_set(
        export, today.isoformat(), _rate_attributes(AGILE_EXPORT, today)
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=TITLE,
        data={
            **entry_data(),
            CONF_PRICE_SOURCE: PRICE_SOURCE_OCTOPUS_ENERGY,
            CONF_IMPORT_PRODUCT: ENTITIES_IMPORT_PRODUCT,
            CONF_EXPORT_PRODUCT: ENTITIES_EXPORT_PRODUCT,
            CONF_RATE_ENTITIES: [current, following],
            CONF_EXPORT_RATE_ENTITIES: [export],
        },
        options=entry_options(),
    )
    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    assert octopus.calls == []
    result = entry.runtime_data.plan.data
    assert result.plan is not None
    assert result.prices_end == tomorrow
    assert result.import_price_now == pytest.approx(price_at(AGILE_IMPORT, NOW))
    prices = entry.runtime_data.prices.data
    assert prices.export_price_at(NOW) == pytest.approx(price_at(AGILE_EXPORT, NOW))

    # Tomorrow's rates appear in the next-day entity about 16:00.
    hass.states.async_set(
        following, NOW.isoformat(), _rate_attributes(AGILE_IMPORT, tomorrow)
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.runtime_data.plan.data is not result
    assert entry.runtime_data.plan.data.prices_end == tomorrow + timedelta(days=1)


async def test_a_change_of_data_alone_does_not_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Only the flows reload the entry; a rename from the UI does not."""
    entry = init_integration
    plan = entry.runtime_data.plan

    hass.config_entries.async_update_entry(entry, title="Renamed battery")
    await hass.async_block_till_done()

    assert entry.runtime_data.plan is plan


async def test_unload_clears_the_entry_repair_issues(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An unloaded entry cannot clear its issues later: unloading does."""
    entry = init_integration
    issue_id = f"{ISSUE_SOC_UNAVAILABLE}_{entry.entry_id}"
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_SOC_UNAVAILABLE,
    )

    assert await hass.config_entries.async_unload(entry.entry_id)

    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_removing_the_entry_deletes_its_stored_files(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Run history and price cache go with the entry."""
    entry = init_integration
    await hass.async_block_till_done()
    history_key = f"{DOMAIN}.history.{entry.entry_id}"
    prices_key = f"{DOMAIN}.prices.{entry.entry_id}"
    hass_storage[history_key] = {"version": 1, "key": history_key, "data": {}}
    hass_storage[prices_key] = {"version": 1, "key": prices_key, "data": {}}

    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    assert history_key not in hass_storage
    assert prices_key not in hass_storage


async def test_rarely_needed_diagnostics_start_disabled(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Solve time, last plan and price coverage are registered but off until enabled."""
    registry = er.async_get(hass)
    for key in ("solve_time", "last_plan", "price_coverage"):
        entity_id = conftest_entity_id(hass, "sensor", key)
        entry = registry.async_get(entity_id)
        assert entry is not None
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION, key
        assert hass.states.get(entity_id) is None, key
    # The diagnostics a user acts on stay on.
    assert (
        hass.states.get(conftest_entity_id(hass, "sensor", "solver_status")) is not None
    )
    assert (
        hass.states.get(conftest_entity_id(hass, "binary_sensor", "problem"))
        is not None
    )


async def test_an_entry_keyed_by_entity_id_moves_to_the_registry_id(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
) -> None:
    """Entries made before 1.2 get the SoC sensor's registry id as unique id."""
    registered = er.async_get(hass).async_get_or_create(
        "sensor", "foxess_modbus", "battery_soc_migrate"
    )
    data = entry_data()
    data[CONF_SOC_ENTITY] = registered.entity_id
    hass.states.async_set(registered.entity_id, "55")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=TITLE,
        unique_id=registered.entity_id,
        data=data,
        options=entry_options(),
        version=1,
        minor_version=1,
    )
    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    assert entry.unique_id == registered.id
    assert entry.minor_version == 2


async def test_an_entry_from_a_newer_version_is_not_loaded(
    hass: HomeAssistant, octopus: FakeOctopus, inverter_states: None
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=TITLE,
        data=entry_data(),
        options=entry_options(),
        version=2,
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
