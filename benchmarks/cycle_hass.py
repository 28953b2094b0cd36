"""One re-plan cycle in a test Home Assistant, run by benchmarks/cycle.py through pytest.

Not collected by the test suite: pytest runs it only when cycle.py names it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
import time
from typing import Any, Protocol
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.battery_optimizer.const import DOMAIN
from custom_components.battery_optimizer.tariffs.octopus import AgileProducts, Rate
from tests.conftest import (
    EXPORT_PRODUCT,
    IMPORT_PRODUCT,
    entity_registry_enabled_by_default,
    entry_data,
    entry_options,
    read_agile_csv,
    set_inverter_states,
)

CYCLES = 30
WARM_UP_CYCLES = 3
SLOT = timedelta(minutes=30)
# The fixture week is replayed from a day before now, so 48 hours ahead are priced.
DAYS_BEFORE_NOW = 1
CLIENT = "custom_components.battery_optimizer.tariffs.octopus.OctopusClient"


class Results(Protocol):
    """Where the measurements go; cycle.py provides it as a fixture."""

    cycle_ms: list[float]
    step_ms: list[float]
    slots: int


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


def _shifted_rates(rates: list[Rate], first_start: Any) -> list[Rate]:
    """The fixture's prices in order, moved to start at `first_start`."""
    return [
        Rate(first_start + i * SLOT, first_start + (i + 1) * SLOT, r.price_p_per_kwh)
        for i, r in enumerate(rates)
    ]


@contextmanager
def _loop_steps(durations_ms: list[float]) -> Iterator[None]:
    """Record how long every event-loop callback runs while the block is active."""
    original: Callable[[asyncio.Handle], None] = asyncio.Handle._run

    def timed_run(handle: asyncio.Handle) -> None:
        started = time.perf_counter()
        try:
            original(handle)
        finally:
            durations_ms.append((time.perf_counter() - started) * 1000)

    asyncio.Handle._run = timed_run  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        asyncio.Handle._run = original  # type: ignore[method-assign,assignment]


# Every sensor is written each cycle, the ones that start disabled too.
@pytest.mark.usefixtures(entity_registry_enabled_by_default.__name__)
async def test_cycle(hass: HomeAssistant, cycle_results: Results) -> None:
    """Time async_refresh() to entities written, and the longest loop step."""
    now = dt_util.utcnow()
    first = now.replace(minute=now.minute // 30 * 30, second=0, microsecond=0)
    first -= timedelta(days=DAYS_BEFORE_NOW)
    import_rates, export_rates = read_agile_csv()
    shifted = {
        IMPORT_PRODUCT: _shifted_rates(import_rates, first),
        EXPORT_PRODUCT: _shifted_rates(export_rates, first),
    }

    async def get_rates(product: str, region: str, start: Any, end: Any) -> list[Rate]:
        return [r for r in shifted[product] if r.end > start and r.start < end]

    set_inverter_states(hass)
    entry = MockConfigEntry(
        domain=DOMAIN, title="Benchmark", data=entry_data(), options=entry_options()
    )
    with (
        patch(f"{CLIENT}.async_get_rates", AsyncMock(side_effect=get_rates)),
        patch(
            f"{CLIENT}.async_get_agile_products",
            AsyncMock(return_value=AgileProducts(IMPORT_PRODUCT, EXPORT_PRODUCT)),
        ),
    ):
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        coordinator = entry.runtime_data.plan
        last_plan = er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"{entry.entry_id}_last_plan"
        )
        assert last_plan is not None

        for _ in range(WARM_UP_CYCLES):
            await coordinator.async_refresh()
        with _loop_steps(cycle_results.step_ms):
            for _ in range(CYCLES):
                started_at = dt_util.utcnow()
                started = time.perf_counter()
                await coordinator.async_refresh()
                cycle_results.cycle_ms.append((time.perf_counter() - started) * 1000)
                # The entities are written before async_refresh returns.
                state = hass.states.get(last_plan)
                assert state is not None
                assert state.last_reported >= started_at
        assert coordinator.last_update_success
        assert coordinator.data.plan is not None
        cycle_results.slots = len(coordinator.data.plan.slots)
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
