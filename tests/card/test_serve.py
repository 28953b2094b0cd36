"""Registration of the plan card with Home Assistant's web server and frontend."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.battery_optimizer.card.serve import (
    CARD_PATH,
    CARD_URL,
    DATA_CARD_URL,
    async_register_card,
    async_setup_card,
    card_version,
)

# The frontend's files come in the home-assistant-frontend package, which the
# test requirements of some Home Assistant versions leave out.
needs_frontend = pytest.mark.skipif(
    importlib.util.find_spec("hass_frontend") is None,
    reason="home-assistant-frontend is not installed",
)


@pytest.fixture
def expected_lingering_timers() -> bool:
    """The frontend saves its own settings with a delay that may outlive a test."""
    return True


def _card_urls(hass: HomeAssistant) -> list[str]:
    return [
        url for url in hass.data[DATA_EXTRA_MODULE_URL].urls if url.startswith(CARD_URL)
    ]


@needs_frontend
async def test_card_is_served_and_loaded_by_the_frontend(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "frontend", {})

    await async_register_card(hass)

    (url,) = _card_urls(hass)
    # Browsers cache the card: the URL names its version so updates reach them.
    assert url.startswith(f"{CARD_URL}?v=")
    assert len(url.split("?v=")[1]) >= 6
    client = await hass_client_no_auth()
    response = await client.get(_card_urls(hass)[0])
    assert response.status == 200
    body = await response.text()
    assert body == CARD_PATH.read_text(encoding="utf-8")
    assert "customElements.define(CARD_TYPE" in body


@needs_frontend
async def test_registering_again_changes_nothing(hass: HomeAssistant) -> None:
    """A second entry or a reload must not add a second route or URL."""
    assert await async_setup_component(hass, "frontend", {})

    await async_register_card(hass)
    await async_register_card(hass)

    assert len(_card_urls(hass)) == 1


@needs_frontend
async def test_card_waits_for_a_frontend_still_starting(hass: HomeAssistant) -> None:
    """At start-up the integration may be ready before the frontend is."""
    await async_setup_card(hass)
    assert DATA_CARD_URL not in hass.data

    assert await async_setup_component(hass, "frontend", {})
    await hass.async_block_till_done()

    (url,) = _card_urls(hass)
    assert url.startswith(f"{CARD_URL}?v=")


@needs_frontend
async def test_card_is_registered_at_once_when_the_frontend_is_up(
    hass: HomeAssistant,
) -> None:
    assert await async_setup_component(hass, "frontend", {})

    await async_setup_card(hass)

    assert len(_card_urls(hass)) == 1


async def test_without_a_frontend_nothing_is_registered(hass: HomeAssistant) -> None:
    await async_register_card(hass)

    assert DATA_CARD_URL not in hass.data


def test_version_follows_the_card_contents(tmp_path: Path) -> None:
    """A new card gets a new URL; the same card elsewhere keeps its URL."""
    card = tmp_path / "card.js"
    card.write_text("one", encoding="utf-8")
    first = card_version(card)
    copy = tmp_path / "copy.js"
    copy.write_text("one", encoding="utf-8")
    card.write_text("two", encoding="utf-8")

    assert card_version(card) != first
    assert card_version(copy) == first
