"""Tests of the price data, the refresh schedule and the price cache."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from custom_components.battery_optimizer.const import (
    CONF_EXPORT_PRODUCT,
    CONF_EXPORT_RATE,
    CONF_EXPORT_TYPE,
    CONF_IMPORT_PRODUCT,
    CONF_REGION,
    DOMAIN,
    EXPORT_AGILE,
    EXPORT_FIXED,
    EXPORT_NONE,
)
from custom_components.battery_optimizer.tariffs.octopus import OctopusClient, Rate
from custom_components.battery_optimizer.tariffs.prices import (
    PriceCoordinator,
    PriceData,
    TariffSettings,
)

from .octopus_fixtures import (
    EXPORT_PRODUCT,
    IMPORT_PRODUCT,
    REGION,
    SLOT,
    FakeOctopus,
    load_prices,
    shifted,
)

IMPORT_PRICES, EXPORT_PRICES = load_prices()
ENTRY_ID = "0123456789abcdef"
STORE_KEY = f"battery_optimizer.prices.{ENTRY_ID}"
MINUTE = timedelta(minutes=1)
# British Summer Time: London is UTC+1, so 16:00 London is 15:00 UTC.
MAY_15 = datetime(2023, 5, 15, tzinfo=UTC)
MAY_15_AGILE_END = datetime(2023, 5, 15, 22, tzinfo=UTC)  # 23:00 London
MAY_16_AGILE_END = datetime(2023, 5, 16, 22, tzinfo=UTC)


def _entry_data(export_type: str = EXPORT_AGILE, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        CONF_REGION: REGION,
        CONF_IMPORT_PRODUCT: IMPORT_PRODUCT,
        CONF_EXPORT_TYPE: export_type,
    }
    if export_type == EXPORT_AGILE:
        data[CONF_EXPORT_PRODUCT] = EXPORT_PRODUCT
    return {**data, **extra}


def _rates(prices: dict[datetime, float], start: datetime, end: datetime) -> tuple[Rate, ...]:
    return tuple(
        Rate(s, s + SLOT, p) for s, p in sorted(prices.items()) if start <= s < end
    )


def _slot_starts(start: datetime, end: datetime) -> list[datetime]:
    count = int((end - start) / SLOT)
    return [start + i * SLOT for i in range(count)]


@pytest.fixture
def fake(aioclient_mock: AiohttpClientMocker) -> FakeOctopus:
    """Serve the real May 2023 prices, published up to 23:00 London on 15 May."""
    octopus = FakeOctopus(
        prices={IMPORT_PRODUCT: IMPORT_PRICES, EXPORT_PRODUCT: EXPORT_PRICES},
        published_until=MAY_15_AGILE_END,
    )
    octopus.register(aioclient_mock)
    return octopus


@pytest.fixture
async def make_coordinator(
    hass: HomeAssistant,
) -> AsyncIterator[Callable[..., PriceCoordinator]]:
    """Build coordinators for a config entry; stop their timers afterwards."""
    made: list[PriceCoordinator] = []

    def make(
        entry_data: dict[str, Any] | None = None, entry_id: str = ENTRY_ID
    ) -> PriceCoordinator:
        entry = MockConfigEntry(
            domain=DOMAIN, data=entry_data or _entry_data(), entry_id=entry_id
        )
        if hass.config_entries.async_get_entry(entry_id) is None:
            entry.add_to_hass(hass)
        client = OctopusClient(async_get_clientsession(hass))
        made.append(PriceCoordinator(hass, entry, client))
        return made[-1]

    yield make
    for coordinator in made:
        await coordinator.async_shutdown()


async def _start(hass: HomeAssistant, coordinator: PriceCoordinator) -> None:
    """Refresh once and listen, as the integration does at setup."""
    await coordinator.async_refresh()
    coordinator.async_add_listener(lambda: None)
    await hass.async_block_till_done()


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


# --- PriceData ---------------------------------------------------------------


def test_prices_for_slot_starts_are_none_where_unpublished() -> None:
    day_end = MAY_15 + timedelta(hours=2)
    rates = [r for r in _rates(IMPORT_PRICES, MAY_15, day_end) if r.start != MAY_15 + SLOT]
    data = PriceData(tuple(rates), (), 0.0, MAY_15)
    before = MAY_15 - SLOT
    mid_slot = MAY_15 + timedelta(minutes=17)

    prices = data.import_prices([before, mid_slot, MAY_15 + SLOT, MAY_15 + 2 * SLOT, day_end])

    assert prices == [
        None,
        IMPORT_PRICES[MAY_15],
        None,
        IMPORT_PRICES[MAY_15 + 2 * SLOT],
        None,
    ]
    assert data.import_end == day_end
    assert PriceData((), (), 0.0, MAY_15).import_end is None


def test_agile_export_prices_follow_their_own_rates() -> None:
    end = MAY_15 + timedelta(hours=1)
    data = PriceData(
        _rates(IMPORT_PRICES, MAY_15, end), _rates(EXPORT_PRICES, MAY_15, end), None, MAY_15
    )

    assert data.export_prices([MAY_15, MAY_15 + SLOT, end]) == [
        EXPORT_PRICES[MAY_15],
        EXPORT_PRICES[MAY_15 + SLOT],
        None,
    ]


def test_fixed_export_price_holds_beyond_published_imports() -> None:
    data = PriceData(_rates(IMPORT_PRICES, MAY_15, MAY_15 + SLOT), (), 15.0, MAY_15)

    assert data.export_prices([MAY_15, MAY_15 + timedelta(days=5)]) == [15.0, 15.0]


def test_coverage_of_a_normal_london_day_and_a_partial_window() -> None:
    # 15 May 2023 in London: 23:00 UTC on the 14th to 23:00 UTC on the 15th.
    day_start = datetime(2023, 5, 14, 23, tzinfo=UTC)
    day_end = datetime(2023, 5, 15, 23, tzinfo=UTC)
    data = PriceData(_rates(IMPORT_PRICES, day_start, day_end), (), 0.0, MAY_15)

    assert len(_slot_starts(day_start, day_end)) == 48
    assert data.coverage_pct(day_start, day_end) == 100.0
    # Half of a 12-hour window past the last price, with a slot cut in the middle.
    assert data.coverage_pct(day_end - timedelta(hours=6), day_end + timedelta(hours=6)) == 50.0
    assert data.coverage_pct(day_start + timedelta(minutes=15), day_start + timedelta(minutes=45)) == 100.0
    assert data.coverage_pct(day_end, day_end) == 100.0


def test_coverage_on_the_march_clock_change_day_has_46_slots() -> None:
    # 26 March 2023: London day from 00:00 GMT to 00:00 BST, 23 hours.
    day_start = datetime(2023, 3, 26, 0, tzinfo=UTC)
    day_end = datetime(2023, 3, 26, 23, tzinfo=UTC)
    rates = _rates(IMPORT_PRICES, day_start, day_end)
    data = PriceData(rates, (), 0.0, day_start)
    starts = _slot_starts(day_start, day_end)

    assert len(starts) == len(rates) == 46
    assert data.coverage_pct(day_start, day_end) == 100.0
    assert None not in data.import_prices(starts)
    one_missing = PriceData(rates[:-1], (), 0.0, day_start)
    assert one_missing.coverage_pct(day_start, day_end) == pytest.approx(100 * 45 / 46)


def test_coverage_on_the_october_clock_change_day_has_50_slots() -> None:
    # 29 October 2023: London day from 00:00 BST to 00:00 GMT, 25 hours.
    day_start = datetime(2023, 10, 28, 23, tzinfo=UTC)
    day_end = datetime(2023, 10, 30, 0, tzinfo=UTC)
    prices = shifted(IMPORT_PRICES, datetime(2022, 11, 1, tzinfo=UTC), day_start)
    rates = _rates(prices, day_start, day_end)
    data = PriceData(rates, (), 0.0, day_start)
    starts = _slot_starts(day_start, day_end)

    assert len(starts) == len(rates) == 50
    assert data.coverage_pct(day_start, day_end) == 100.0
    assert data.import_prices(starts) == [prices[s] for s in starts]
    one_missing = PriceData(rates[1:], (), 0.0, day_start)
    assert one_missing.coverage_pct(day_start, day_end) == pytest.approx(98.0)


# --- TariffSettings ------------------------------------------------------------


def test_settings_of_each_export_type() -> None:
    agile = TariffSettings.from_entry_data(_entry_data())
    fixed = TariffSettings.from_entry_data(
        _entry_data(EXPORT_FIXED, **{CONF_EXPORT_RATE: 15})
    )
    none = TariffSettings.from_entry_data(
        _entry_data(EXPORT_NONE, **{CONF_EXPORT_PRODUCT: EXPORT_PRODUCT})
    )

    assert agile.import_tariff == "E-1R-AGILE-FLEX-22-11-25-C"
    assert agile.export_tariff == "E-1R-AGILE-OUTGOING-19-05-13-C"
    assert agile.fixed_export_p_per_kwh is None
    assert (fixed.export_tariff, fixed.fixed_export_p_per_kwh) == (None, 15.0)
    assert (none.export_tariff, none.fixed_export_p_per_kwh) == (None, 0.0)


@pytest.mark.parametrize(
    "data",
    [
        _entry_data("sometimes"),
        {CONF_REGION: REGION, CONF_IMPORT_PRODUCT: IMPORT_PRODUCT, CONF_EXPORT_TYPE: EXPORT_AGILE},
    ],
    ids=["unknown-type", "agile-without-product"],
)
def test_invalid_settings_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="export"):
        TariffSettings.from_entry_data(data)


# --- PriceCoordinator ----------------------------------------------------------


async def test_fetch_at_start_reads_both_directions(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
) -> None:
    now = datetime(2023, 5, 15, 9, 10, tzinfo=UTC)
    freezer.move_to(now)
    coordinator = make_coordinator()

    await _start(hass, coordinator)

    data = coordinator.data
    assert coordinator.last_update_success
    assert data.from_cache is False
    assert data.fetched_at == now
    slot = datetime(2023, 5, 15, 9, tzinfo=UTC)
    assert data.import_price_at(now) == IMPORT_PRICES[slot]
    assert data.export_price_at(now) == EXPORT_PRICES[slot]
    assert data.import_end == MAY_15_AGILE_END
    assert data.import_rates[0].start == datetime(2023, 5, 14, 9, tzinfo=UTC)
    (request,) = fake.rate_requests(IMPORT_PRODUCT)
    assert request.query["period_from"] == "2023-05-14T09:10:00Z"
    assert request.query["period_to"] == "2023-05-17T09:10:00Z"
    assert len(fake.rate_requests(EXPORT_PRODUCT)) == 1
    assert coordinator.update_interval == timedelta(minutes=30)


async def test_refreshes_every_30_minutes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
) -> None:
    freezer.move_to(datetime(2023, 5, 15, 8, 0, tzinfo=UTC))
    coordinator = make_coordinator()
    await _start(hass, coordinator)

    await _advance(hass, freezer, timedelta(minutes=29))
    assert len(fake.rate_requests(IMPORT_PRODUCT)) == 1
    await _advance(hass, freezer, MINUTE)
    assert len(fake.rate_requests(IMPORT_PRODUCT)) == 2
    await _advance(hass, freezer, timedelta(minutes=30))
    assert len(fake.rate_requests(IMPORT_PRODUCT)) == 3
    assert coordinator.data.fetched_at == datetime(2023, 5, 15, 9, 0, tzinfo=UTC)
