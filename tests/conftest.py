"""Shared fixtures for the Battery Optimizer tests."""

from __future__ import annotations

from collections.abc import Generator, Mapping
import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.battery_optimizer.const import (
    CONF_BATTERY_VOLTAGE_ENTITY,
    CONF_CAPACITY_KWH,
    CONF_CHARGE_LIMIT_KW,
    CONF_CHEAP_THRESHOLD,
    CONF_CYCLE_COST,
    CONF_DAILY_LOAD_KWH,
    CONF_DISCHARGE_LIMIT_KW,
    CONF_EFFICIENCY_PCT,
    CONF_END_VALUE_PCT,
    CONF_EXPENSIVE_THRESHOLD,
    CONF_EXPORT_LIMIT_KW,
    CONF_EXPORT_PRODUCT,
    CONF_EXPORT_TYPE,
    CONF_HORIZON_HOURS,
    CONF_IMPORT_PRODUCT,
    CONF_LOAD_POWER_ENTITY,
    CONF_MAX_SOC_PCT,
    CONF_PV_POWER_ENTITY,
    CONF_REGION,
    CONF_REPLAN_MINUTES,
    CONF_RESERVE_SOC_PCT,
    CONF_SOC_ENTITY,
    DOMAIN,
    EXPORT_AGILE,
)
from custom_components.battery_optimizer.tariffs.octopus import (
    AgileProducts,
    OctopusConnectionError,
    Rate,
)

AGILE_CSV = Path(__file__).parent / "fixtures" / "agile_2022-12-26_7d.csv"
SLOT = timedelta(minutes=30)
# A Tuesday morning inside the fixture week, seven minutes into a half-hour.
NOW = datetime(2022, 12, 27, 10, 7, tzinfo=UTC)

IMPORT_PRODUCT = "AGILE-FLEX-22-11-25"
EXPORT_PRODUCT = "AGILE-OUTGOING-19-05-13"
ENTRY_ID = "01JBATTERYOPTIMIZERTEST0001"
TITLE = "Battery Optimizer (London)"
SOC_ENTITY = "sensor.foxess_battery_soc"
PV_ENTITY = "sensor.foxess_pv_power"
LOAD_ENTITY = "sensor.foxess_load_power"
VOLTAGE_ENTITY = "sensor.foxess_battery_voltage"
SOC_PCT = 55.0
CHEAP_P_PER_KWH = 15.0
EXPENSIVE_P_PER_KWH = 30.0


def read_agile_csv(path: Path = AGILE_CSV) -> tuple[list[Rate], list[Rate]]:
    """Import and export rates of the fixture week, oldest first."""
    import_rates: list[Rate] = []
    export_rates: list[Rate] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            start = datetime.fromisoformat(row["start"]).astimezone(UTC)
            import_rates.append(
                Rate(start, start + SLOT, float(row["import_p_per_kwh"]))
            )
            export_rates.append(
                Rate(start, start + SLOT, float(row["export_p_per_kwh"]))
            )
    return import_rates, export_rates


AGILE_IMPORT, AGILE_EXPORT = read_agile_csv()


def price_at(rates: list[Rate], when: datetime) -> float:
    """The fixture price in force at `when`."""
    return next(r.price_p_per_kwh for r in rates if r.start <= when < r.end)


@dataclass
class FakeOctopus:
    """Serves the fixture week as the Octopus API would, up to `published_until`."""

    import_rates: list[Rate]
    export_rates: list[Rate]
    published_until: datetime | None = None
    fail: bool = False
    calls: list[tuple[str, datetime, datetime]] = field(default_factory=list)

    async def get_rates(
        self, product: str, region: str, period_from: datetime, period_to: datetime
    ) -> list[Rate]:
        """Rates of a product that overlap the period and are published."""
        self.calls.append((product, period_from, period_to))
        if self.fail:
            raise OctopusConnectionError("HTTP 503 from the test server")
        rates = self.export_rates if product == EXPORT_PRODUCT else self.import_rates
        return [
            rate
            for rate in rates
            if rate.end > period_from
            and rate.start < period_to
            and (self.published_until is None or rate.end <= self.published_until)
        ]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format, under tests/snapshots."""
    # Syrupy's own fixture wins over the plugin's, which would add this.
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def frozen_now(freezer: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    """Freeze time inside the fixture week."""
    freezer.move_to(NOW)
    return freezer


@pytest.fixture
def octopus() -> Generator[FakeOctopus]:
    """Replace the Octopus API with the fixture week's real Agile prices."""
    fake = FakeOctopus(list(AGILE_IMPORT), list(AGILE_EXPORT))
    module = "custom_components.battery_optimizer.tariffs.octopus.OctopusClient"
    with (
        patch(f"{module}.async_get_rates", AsyncMock(side_effect=fake.get_rates)),
        patch(
            f"{module}.async_get_agile_products",
            AsyncMock(return_value=AgileProducts(IMPORT_PRODUCT, EXPORT_PRODUCT)),
        ),
    ):
        yield fake


def entry_data() -> dict[str, object]:
    """Config entry data as the config flow stores it."""
    return {
        CONF_REGION: "C",
        CONF_IMPORT_PRODUCT: IMPORT_PRODUCT,
        CONF_EXPORT_TYPE: EXPORT_AGILE,
        CONF_EXPORT_PRODUCT: EXPORT_PRODUCT,
        CONF_SOC_ENTITY: SOC_ENTITY,
        CONF_PV_POWER_ENTITY: PV_ENTITY,
        CONF_LOAD_POWER_ENTITY: LOAD_ENTITY,
        CONF_BATTERY_VOLTAGE_ENTITY: VOLTAGE_ENTITY,
        CONF_CAPACITY_KWH: 10.4,
        CONF_CHARGE_LIMIT_KW: 5.0,
        CONF_DISCHARGE_LIMIT_KW: 5.0,
        CONF_EFFICIENCY_PCT: 90.0,
        CONF_RESERVE_SOC_PCT: 10.0,
        CONF_MAX_SOC_PCT: 100.0,
        CONF_EXPORT_LIMIT_KW: 3.68,
    }


def entry_options() -> dict[str, object]:
    """Options as the options flow stores them."""
    return {
        CONF_HORIZON_HOURS: 48,
        CONF_REPLAN_MINUTES: 5,
        CONF_CYCLE_COST: 2.0,
        CONF_CHEAP_THRESHOLD: CHEAP_P_PER_KWH,
        CONF_EXPENSIVE_THRESHOLD: EXPENSIVE_P_PER_KWH,
        CONF_END_VALUE_PCT: 80.0,
        CONF_DAILY_LOAD_KWH: 9.6,
    }


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """A London Agile entry with Agile Outgoing export and a 10.4 kWh battery."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=TITLE,
        unique_id=SOC_ENTITY,
        entry_id=ENTRY_ID,
        data=entry_data(),
        options=entry_options(),
    )


def set_inverter_states(hass: HomeAssistant, soc: str = str(SOC_PCT)) -> None:
    """Publish the inverter's SoC, PV, load and battery voltage."""
    hass.states.async_set(
        SOC_ENTITY, soc, {"unit_of_measurement": "%", "device_class": "battery"}
    )
    hass.states.async_set(
        PV_ENTITY, "0.8", {"unit_of_measurement": "kW", "device_class": "power"}
    )
    hass.states.async_set(
        LOAD_ENTITY, "450", {"unit_of_measurement": "W", "device_class": "power"}
    )
    hass.states.async_set(
        VOLTAGE_ENTITY, "52.0", {"unit_of_measurement": "V", "device_class": "voltage"}
    )


@pytest.fixture
def inverter_states(hass: HomeAssistant) -> None:
    """The inverter's entities with a SoC of 55 %."""
    set_inverter_states(hass)


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add the entry to hass and set it up, waiting for its first plan."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Move the clock on and run whatever timers fell due."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def entity_id(hass: HomeAssistant, platform: str, key: str) -> str:
    """The entity id of one of the entry's entities, found by its unique id."""
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{ENTRY_ID}_{key}"
    )
    assert found is not None, f"no {platform} entity with key {key}"
    return found


def state_of(hass: HomeAssistant, platform: str, key: str) -> State:
    """The current state of one of the entry's entities."""
    state = hass.states.get(entity_id(hass, platform, key))
    assert state is not None
    return state


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """Set up the integration at NOW with the fixture prices and a live SoC."""
    await setup_entry(hass, mock_config_entry)
    return mock_config_entry


# Registry fields that mean the same on every supported Home Assistant version.
STABLE_REGISTRY_FIELDS = (
    "entity_id",
    "unique_id",
    "translation_key",
    "original_name",
    "original_device_class",
    "entity_category",
    "unit_of_measurement",
    "capabilities",
    "has_entity_name",
)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Register every entity enabled, including those that start disabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


def _str_keys(value: Any) -> Any:
    """A mapping keyed by plain strings (newer releases key some by StrEnum)."""
    if isinstance(value, Mapping):
        return {str(key): item for key, item in value.items()}
    return value


async def snapshot_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    entry_id: str,
) -> None:
    """Snapshot each entity's registry entry and state in a version-stable form.

    HA's own snapshot_platform also records registry fields that newer releases
    add, which would make one snapshot fail on the other supported version. The
    plan series is left out: its shape and values are asserted in test_sensor.
    """
    entries = er.async_entries_for_config_entry(entity_registry, entry_id)
    assert entries, "the entry created no entities"
    for entry in sorted(entries, key=lambda e: e.entity_id):
        registry = {
            name: _str_keys(getattr(entry, name)) for name in STABLE_REGISTRY_FIELDS
        }
        assert registry == snapshot(name=f"{entry.entity_id}-entry")
        state = hass.states.get(entry.entity_id)
        assert state is not None
        # Newer releases key the standard attributes by a StrEnum; compare names.
        attributes = {str(k): v for k, v in state.attributes.items() if k != "plan"}
        assert {"state": state.state, "attributes": attributes} == snapshot(
            name=f"{entry.entity_id}-state"
        )
