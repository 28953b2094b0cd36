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
from homeassistant.util import dt as dt_util
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


def _rates(
    prices: dict[datetime, float], start: datetime, end: datetime
) -> tuple[Rate, ...]:
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
        # A second coordinator for the same entry stands for a restart.
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None:
            new_entry = MockConfigEntry(
                domain=DOMAIN, data=entry_data or _entry_data(), entry_id=entry_id
            )
            new_entry.add_to_hass(hass)
            entry = new_entry
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


def _interval(coordinator: PriceCoordinator) -> timedelta:
    assert coordinator.update_interval is not None
    return coordinator.update_interval


def _mock_entry(hass: HomeAssistant) -> MockConfigEntry:
    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert isinstance(entry, MockConfigEntry)
    return entry


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


# --- PriceData ---------------------------------------------------------------


def test_prices_for_slot_starts_are_none_where_unpublished() -> None:
    day_end = MAY_15 + timedelta(hours=2)
    rates = [
        r for r in _rates(IMPORT_PRICES, MAY_15, day_end) if r.start != MAY_15 + SLOT
    ]
    data = PriceData(tuple(rates), (), 0.0, MAY_15)
    before = MAY_15 - SLOT
    mid_slot = MAY_15 + timedelta(minutes=17)

    prices = data.import_prices(
        [before, mid_slot, MAY_15 + SLOT, MAY_15 + 2 * SLOT, day_end]
    )

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
        _rates(IMPORT_PRICES, MAY_15, end),
        _rates(EXPORT_PRICES, MAY_15, end),
        None,
        MAY_15,
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
    assert (
        data.coverage_pct(day_end - timedelta(hours=6), day_end + timedelta(hours=6))
        == 50.0
    )
    assert (
        data.coverage_pct(
            day_start + timedelta(minutes=15), day_start + timedelta(minutes=45)
        )
        == 100.0
    )
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
        {
            CONF_REGION: REGION,
            CONF_IMPORT_PRODUCT: IMPORT_PRODUCT,
            CONF_EXPORT_TYPE: EXPORT_AGILE,
        },
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


async def test_polls_from_16_london_until_tomorrows_prices_appear(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
) -> None:
    freezer.move_to(datetime(2023, 5, 15, 14, 10, tzinfo=UTC))  # 15:10 London
    coordinator = make_coordinator()
    await _start(hass, coordinator)
    requests = fake.rate_requests

    await _advance(hass, freezer, timedelta(minutes=30))  # 15:40
    assert len(requests(IMPORT_PRODUCT)) == 2
    # The next fetch waits for 16:00 London rather than a full 30 minutes.
    assert _interval(coordinator) < timedelta(minutes=21)
    await _advance(hass, freezer, timedelta(minutes=19))
    assert len(requests(IMPORT_PRODUCT)) == 2
    await _advance(hass, freezer, timedelta(minutes=1, seconds=1))  # 16:00:01
    assert len(requests(IMPORT_PRODUCT)) == 3
    assert coordinator.update_interval == timedelta(minutes=5)

    await _advance(hass, freezer, timedelta(minutes=5))  # 16:05, not yet published
    assert len(requests(IMPORT_PRODUCT)) == 4
    assert coordinator.data.import_price_at(MAY_15_AGILE_END) is None

    fake.published_until = MAY_16_AGILE_END
    await _advance(hass, freezer, timedelta(minutes=5))  # 16:10, published
    assert len(requests(IMPORT_PRODUCT)) == 5
    last_slot = MAY_16_AGILE_END - SLOT
    assert coordinator.data.import_price_at(last_slot) == IMPORT_PRICES[last_slot]
    assert coordinator.data.export_price_at(last_slot) == EXPORT_PRICES[last_slot]
    assert coordinator.update_interval == timedelta(minutes=30)

    await _advance(hass, freezer, timedelta(minutes=29))
    assert len(requests(IMPORT_PRODUCT)) == 5
    await _advance(hass, freezer, MINUTE)
    assert len(requests(IMPORT_PRODUCT)) == 6


async def test_polling_stops_at_midnight_when_prices_never_came(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
) -> None:
    freezer.move_to(datetime(2023, 5, 15, 22, 50, tzinfo=UTC))  # 23:50 London
    coordinator = make_coordinator()
    await _start(hass, coordinator)
    assert coordinator.update_interval == timedelta(minutes=5)

    await _advance(hass, freezer, timedelta(minutes=5))  # 23:55
    await _advance(hass, freezer, timedelta(minutes=5))  # 00:00 London, 16 May

    assert len(fake.rate_requests(IMPORT_PRODUCT)) == 3
    # A new London day: 17 May's prices are not due before 16:00.
    assert coordinator.update_interval == timedelta(minutes=30)
    assert (
        coordinator.data.coverage_pct(
            datetime(2023, 5, 15, 23, tzinfo=UTC), datetime(2023, 5, 16, 11, tzinfo=UTC)
        )
        == 0.0
    )


async def test_refreshes_continue_across_midnight_with_prices_published(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
) -> None:
    fake.published_until = MAY_16_AGILE_END
    freezer.move_to(datetime(2023, 5, 15, 22, 45, tzinfo=UTC))  # 23:45 London
    coordinator = make_coordinator()
    await _start(hass, coordinator)
    assert coordinator.update_interval == timedelta(minutes=30)

    await _advance(hass, freezer, timedelta(minutes=30))  # 00:15 London

    assert len(fake.rate_requests(IMPORT_PRODUCT)) == 2
    assert coordinator.update_interval == timedelta(minutes=30)
    now = datetime(2023, 5, 15, 23, 15, tzinfo=UTC)
    assert coordinator.data.coverage_pct(now, now + timedelta(hours=12)) == 100.0


@pytest.mark.parametrize(
    ("now", "published_until", "done"),
    [
        # Saturday 25 March 2023, 16:30 GMT: Sunday's Agile day ends 23:00 BST.
        (
            datetime(2023, 3, 25, 16, 30, tzinfo=UTC),
            datetime(2023, 3, 26, 22, tzinfo=UTC),
            True,
        ),
        (
            datetime(2023, 3, 25, 16, 30, tzinfo=UTC),
            datetime(2023, 3, 26, 21, 30, tzinfo=UTC),
            False,
        ),
        # Saturday 28 October 2023, 16:30 BST: Sunday's Agile day ends 23:00 GMT.
        (
            datetime(2023, 10, 28, 15, 30, tzinfo=UTC),
            datetime(2023, 10, 29, 23, tzinfo=UTC),
            True,
        ),
        (
            datetime(2023, 10, 28, 15, 30, tzinfo=UTC),
            datetime(2023, 10, 29, 22, tzinfo=UTC),
            False,
        ),
    ],
    ids=["march-complete", "march-short", "october-complete", "october-short"],
)
async def test_publication_check_on_clock_change_days(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
    make_coordinator: Callable[..., PriceCoordinator],
    now: datetime,
    published_until: datetime,
    done: bool,
) -> None:
    october = shifted(
        IMPORT_PRICES,
        datetime(2022, 11, 1, tzinfo=UTC),
        datetime(2023, 10, 28, tzinfo=UTC),
    )
    octopus = FakeOctopus(
        prices={IMPORT_PRODUCT: {**IMPORT_PRICES, **october}},
        published_until=published_until,
    )
    octopus.register(aioclient_mock)
    freezer.move_to(now)
    coordinator = make_coordinator(_entry_data(EXPORT_NONE))

    await _start(hass, coordinator)

    assert coordinator.data.import_end == published_until
    expected = timedelta(minutes=30 if done else 5)
    assert coordinator.update_interval == expected


async def test_errors_back_off_and_serve_the_last_prices(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
) -> None:
    freezer.move_to(datetime(2023, 5, 15, 6, 0, tzinfo=UTC))
    coordinator = make_coordinator()
    await _start(hass, coordinator)
    fetched_at = coordinator.data.fetched_at
    fake.error = aiohttp.ClientConnectionError("no route to host")

    await _advance(hass, freezer, timedelta(minutes=30))
    waits = [_interval(coordinator)]
    for _ in range(6):
        before = len(fake.rate_requests(IMPORT_PRODUCT))
        await _advance(hass, freezer, _interval(coordinator) - timedelta(seconds=2))
        assert len(fake.rate_requests(IMPORT_PRODUCT)) == before
        await _advance(hass, freezer, timedelta(seconds=2))
        assert len(fake.rate_requests(IMPORT_PRODUCT)) == before + 1
        waits.append(_interval(coordinator))

    assert [w / MINUTE for w in waits] == [1, 2, 4, 8, 16, 30, 30]
    assert coordinator.last_update_success
    assert coordinator.data.from_cache is True
    assert coordinator.data.fetched_at == fetched_at
    now = datetime(2023, 5, 15, 7, 31, tzinfo=UTC)
    assert dt_util.utcnow() == now
    assert coordinator.data.import_price_at(now) == IMPORT_PRICES[now - MINUTE]

    fake.error = None
    await _advance(hass, freezer, timedelta(minutes=30))
    recovered = coordinator.data
    assert recovered.from_cache is False
    assert coordinator.update_interval == timedelta(minutes=30)


async def test_restart_without_internet_plans_from_the_stored_prices(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
) -> None:
    freezer.move_to(datetime(2023, 5, 15, 15, 30, tzinfo=UTC))
    fake.published_until = MAY_16_AGILE_END
    first = make_coordinator()
    await first.async_refresh()
    await hass.async_block_till_done()
    assert hass_storage[STORE_KEY]["version"] == 1
    await first.async_shutdown()

    # Home Assistant restarts the next morning with the router down.
    freezer.move_to(datetime(2023, 5, 16, 6, 0, tzinfo=UTC))
    fake.error = TimeoutError()
    restarted = make_coordinator()
    _mock_entry(hass).mock_state(hass, ConfigEntryState.SETUP_IN_PROGRESS)
    await restarted.async_config_entry_first_refresh()

    data = restarted.data
    assert data.from_cache is True
    assert data.fetched_at == datetime(2023, 5, 15, 15, 30, tzinfo=UTC)
    now = datetime(2023, 5, 16, 6, 0, tzinfo=UTC)
    assert data.import_price_at(now) == IMPORT_PRICES[now]
    assert data.export_price_at(now) == EXPORT_PRICES[now]
    assert data.coverage_pct(now, now + timedelta(hours=12)) == 100.0
    assert data.import_rates[0].start == datetime(2023, 5, 14, 15, 30, tzinfo=UTC)
    assert restarted.update_interval == MINUTE


async def test_no_prices_and_no_cache_fails_with_a_translated_error(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
) -> None:
    freezer.move_to(datetime(2023, 5, 15, 9, 0, tzinfo=UTC))
    fake.status = 503
    coordinator = make_coordinator()
    _mock_entry(hass).mock_state(hass, ConfigEntryState.SETUP_IN_PROGRESS)

    with pytest.raises(ConfigEntryNotReady):
        await coordinator.async_config_entry_first_refresh()

    error = coordinator.last_exception
    assert isinstance(error, UpdateFailed)
    assert error.translation_domain == DOMAIN
    assert error.translation_key == "prices_unavailable"


async def test_no_prices_while_running_retries_with_backoff(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
) -> None:
    """Without prices to serve, the next tries come after 1, then 2 minutes."""
    freezer.move_to(datetime(2023, 5, 15, 9, 0, tzinfo=UTC))
    fake.status = 503
    coordinator = make_coordinator()
    await _start(hass, coordinator)
    assert not coordinator.last_update_success
    tries = [len(fake.rate_requests(IMPORT_PRODUCT))]
    for wait in (timedelta(seconds=58), timedelta(seconds=4), timedelta(seconds=100)):
        await _advance(hass, freezer, wait)
        tries.append(len(fake.rate_requests(IMPORT_PRODUCT)))
    assert [n - tries[0] for n in tries] == [0, 0, 1, 1]
    await _advance(hass, freezer, timedelta(seconds=30))
    assert len(fake.rate_requests(IMPORT_PRODUCT)) - tries[0] == 2
    fake.status = 200
    await _advance(hass, freezer, timedelta(minutes=4))
    assert coordinator.last_update_success


async def test_stale_cache_is_not_served(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
) -> None:
    freezer.move_to(datetime(2023, 5, 14, 12, 0, tzinfo=UTC))
    await make_coordinator().async_refresh()
    assert STORE_KEY in hass_storage

    freezer.move_to(datetime(2023, 5, 18, 0, 0, tzinfo=UTC))
    fake.error = aiohttp.ClientConnectionError()
    later = make_coordinator()
    await later.async_refresh()

    assert not later.last_update_success
    assert isinstance(later.last_exception, UpdateFailed)


@pytest.mark.parametrize(
    "stored",
    [
        {"import_tariff": "E-1R-AGILE-FLEX-22-11-25-A", "export_tariff": None},
        {
            "import_tariff": "E-1R-AGILE-FLEX-22-11-25-C",
            "export_tariff": "E-1R-AGILE-OUTGOING-19-05-13-C",
            "fetched_at": "2023-05-15T09:00:00+00:00",
            "import": [["2023-05-15T09:00:00+00:00", "soon", 10.0]],
            "export": [],
        },
        {
            "import_tariff": "E-1R-AGILE-FLEX-22-11-25-C",
            "export_tariff": "E-1R-AGILE-OUTGOING-19-05-13-C",
        },
    ],
    ids=["other-region", "bad-time", "missing-rates"],
)
async def test_unusable_cache_is_ignored(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
    stored: dict[str, Any],
) -> None:
    freezer.move_to(datetime(2023, 5, 15, 9, 0, tzinfo=UTC))
    valid = {
        "fetched_at": "2023-05-15T08:00:00+00:00",
        "import": [["2023-05-15T09:00:00+00:00", "2023-05-15T09:30:00+00:00", 10.0]],
        "export": [],
    }
    data = {**valid, **stored} if stored["import_tariff"].endswith("-A") else stored
    hass_storage[STORE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORE_KEY,
        "data": data,
    }
    fake.error = aiohttp.ClientConnectionError()
    coordinator = make_coordinator()

    await coordinator.async_refresh()

    assert not coordinator.last_update_success


async def test_store_is_written_only_when_new_prices_arrive(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
) -> None:
    freezer.move_to(datetime(2023, 5, 15, 15, 10, tzinfo=UTC))
    coordinator = make_coordinator()
    await coordinator.async_refresh()
    written_at = hass_storage[STORE_KEY]["data"]["fetched_at"]

    freezer.tick(timedelta(minutes=5))
    await coordinator.async_refresh()
    assert hass_storage[STORE_KEY]["data"]["fetched_at"] == written_at

    fake.published_until = MAY_16_AGILE_END
    freezer.tick(timedelta(minutes=5))
    await coordinator.async_refresh()
    stored = hass_storage[STORE_KEY]["data"]
    assert stored["fetched_at"] == "2023-05-15T15:20:00+00:00"
    assert stored["import"][-1][1] == "2023-05-16T22:00:00+00:00"
    assert stored["export_tariff"] == "E-1R-AGILE-OUTGOING-19-05-13-C"


async def test_old_rates_are_pruned_as_days_pass(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
) -> None:
    freezer.move_to(datetime(2023, 5, 15, 0, 0, tzinfo=UTC))
    coordinator = make_coordinator()
    await coordinator.async_refresh()
    assert coordinator.data.import_rates[0].start == datetime(2023, 5, 14, tzinfo=UTC)

    fake.published_until = datetime(2023, 5, 17, 22, tzinfo=UTC)
    freezer.move_to(datetime(2023, 5, 17, 12, 0, tzinfo=UTC))
    await coordinator.async_refresh()

    data = coordinator.data
    # Two days of history are kept, including rates only the cache still held.
    assert data.import_rates[0].start == datetime(2023, 5, 15, 12, 0, tzinfo=UTC)
    cache_only = datetime(2023, 5, 15, 21, 30, tzinfo=UTC)
    assert data.import_price_at(cache_only) == IMPORT_PRICES[cache_only]
    never_fetched = datetime(2023, 5, 16, 0, 0, tzinfo=UTC)
    assert data.import_price_at(never_fetched) is None
    assert data.import_end == datetime(2023, 5, 17, 22, tzinfo=UTC)
    assert len(data.import_rates) == 20 + 68


@pytest.mark.parametrize(
    ("export_type", "extra", "export_p"),
    [(EXPORT_FIXED, {CONF_EXPORT_RATE: 15.0}, 15.0), (EXPORT_NONE, {}, 0.0)],
)
async def test_fixed_or_no_export_fetches_import_only(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake: FakeOctopus,
    make_coordinator: Callable[..., PriceCoordinator],
    export_type: str,
    extra: dict[str, Any],
    export_p: float,
) -> None:
    now = datetime(2023, 5, 15, 9, 0, tzinfo=UTC)
    freezer.move_to(now)
    coordinator = make_coordinator(_entry_data(export_type, **extra))

    await coordinator.async_refresh()

    data = coordinator.data
    starts = _slot_starts(now, now + timedelta(hours=24))
    assert fake.rate_requests(EXPORT_PRODUCT) == []
    assert data.export_rates == ()
    assert data.export_prices(starts) == [export_p] * 48
    assert data.import_prices(starts).count(None) == 48 - 26
