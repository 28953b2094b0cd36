"""Serve the plan card and add it to every dashboard without a separate install."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL, add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.const import EVENT_COMPONENT_LOADED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import EventComponentLoaded
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN

_LOGGER = logging.getLogger(__name__)

FRONTEND_DOMAIN = "frontend"

CARD_FILENAME = "battery-optimizer-plan-card.js"
CARD_PATH = Path(__file__).parent.parent / "www" / CARD_FILENAME
CARD_URL = f"/{DOMAIN}/{CARD_FILENAME}"
# Enough hex digits of the file's hash that browsers reload the card when it
# changes, while the URL stays short.
VERSION_HASH_CHARS = 8

# The URL given to the frontend, set once the card is registered; aiohttp
# refuses a second route for the same path, so reloads must not register again.
DATA_CARD_URL: HassKey[str] = HassKey(f"{DOMAIN}_card_url")


def card_version(path: Path = CARD_PATH) -> str:
    """Short content hash of the card, used to bust browser caches."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:VERSION_HASH_CHARS]


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the plan card and load it on every dashboard, once per instance."""
    if DATA_CARD_URL in hass.data:
        return
    if hass.http is None or DATA_EXTRA_MODULE_URL not in hass.data:
        # Without the web server or the frontend (e.g. a headless instance)
        # there is no dashboard to show the card on.
        _LOGGER.debug("Frontend not loaded; the plan card is not registered")
        return
    version = await hass.async_add_executor_job(card_version)
    # Another entry may have registered while the hash was computed.
    if DATA_CARD_URL in hass.data:
        return
    url = f"{CARD_URL}?v={version}"
    hass.data[DATA_CARD_URL] = url
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(CARD_PATH), cache_headers=True)]
    )
    add_extra_js_url(hass, url)


async def async_setup_card(hass: HomeAssistant) -> None:
    """Register the card now if the frontend is up, else as soon as it has loaded."""
    if FRONTEND_DOMAIN in hass.config.components:
        await async_register_card(hass)
        return

    # At start-up the frontend may still be setting up when this integration is.
    @callback
    def _is_frontend(event_data: EventComponentLoaded) -> bool:
        return event_data["component"] == FRONTEND_DOMAIN

    async def _frontend_loaded(_: Event[EventComponentLoaded]) -> None:
        unsubscribe()
        await async_register_card(hass)

    unsubscribe = hass.bus.async_listen(
        EVENT_COMPONENT_LOADED, _frontend_loaded, event_filter=_is_frontend
    )
