"""Tests of the demo price source: a real Agile week replayed as if now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from custom_components.battery_optimizer.optimizer.horizon import published_until
from custom_components.battery_optimizer.tariffs.demo import (
    DEMO_EXPORT_PRODUCT,
    DEMO_IMPORT_PRODUCT,
    DemoPriceClient,
)

SLOT = timedelta(minutes=30)


def _clock(now: datetime) -> Callable[[], datetime]:
    return lambda: now


async def test_late_evening_serves_no_day_octopus_has_not_published() -> None:
    """At 23:30 London the demo's prices end at 23:00 tomorrow, not a day later."""
    now = datetime(2026, 1, 14, 23, 30, tzinfo=UTC)
    client = DemoPriceClient.from_file(_clock(now))
    rates = await client.async_get_rates(
        DEMO_IMPORT_PRODUCT, "C", now, now + timedelta(days=3)
    )
    assert rates[-1].end == datetime(2026, 1, 15, 23, 0, tzinfo=UTC)


def test_prices_are_published_until_23_00_london() -> None:
    # Before 16:00 London only today's prices exist (to 23:00 London).
    assert published_until(datetime(2026, 1, 14, 10, 0, tzinfo=UTC)) == datetime(
        2026, 1, 14, 23, 0, tzinfo=UTC
    )
    # After 16:00 tomorrow's appear; in summer 23:00 London is 22:00 UTC.
    assert published_until(datetime(2026, 7, 14, 16, 30, tzinfo=UTC)) == datetime(
        2026, 7, 15, 22, 0, tzinfo=UTC
    )


async def test_replay_keeps_weekday_and_time_of_day() -> None:
    client = DemoPriceClient.from_file(_clock(datetime(2026, 3, 2, tzinfo=UTC)))
    assert (await client.async_get_agile_products()).import_code == DEMO_IMPORT_PRODUCT
    # The stored week starts Monday 2023-02-27 00:00Z at 24.95p import, 11.74p export.
    monday = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    client = DemoPriceClient(client._week, now=_clock(monday + timedelta(hours=17)))
    rates = await client.async_get_rates(
        DEMO_IMPORT_PRODUCT, "C", monday, monday + timedelta(days=3)
    )
    assert rates[0].start == monday
    assert rates[0].price_p_per_kwh == 24.95
    assert all(b.start - a.start == SLOT for a, b in pairwise(rates))
    # At 17:00 tomorrow's prices are out: they run to 23:00 London on Tuesday.
    assert rates[-1].end == datetime(2026, 3, 3, 23, 0, tzinfo=UTC)
    export = await client.async_get_rates(
        DEMO_EXPORT_PRODUCT, "C", monday, monday + SLOT
    )
    assert [rate.price_p_per_kwh for rate in export] == [11.74]
    # One week later the same slot has the same price.
    later = DemoPriceClient(client._week, now=_clock(monday + timedelta(days=8)))
    again = await later.async_get_rates(
        DEMO_IMPORT_PRODUCT,
        "C",
        monday + timedelta(days=7),
        monday + timedelta(days=7, minutes=30),
    )
    assert [rate.price_p_per_kwh for rate in again] == [24.95]
