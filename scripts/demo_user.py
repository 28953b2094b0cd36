"""Create the demo user and finish onboarding, as Home Assistant's own onboarding does.

The development instance then opens on the login page instead of the onboarding
wizard; README.md gives the user name and password.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from homeassistant import runner
from homeassistant.auth import auth_manager_from_config
from homeassistant.auth.const import GROUP_ID_ADMIN
from homeassistant.auth.providers.homeassistant import HassAuthProvider
from homeassistant.components.onboarding import (
    STORAGE_KEY as ONBOARDING_STORAGE_KEY,
    STORAGE_VERSION as ONBOARDING_STORAGE_VERSION,
)
from homeassistant.components.onboarding.const import STEPS
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.storage import Store

DEMO_NAME = "Demo"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"


async def _async_create(config_dir: Path) -> bool:
    """Add the demo owner and mark onboarding done; False when it already exists."""
    hass = HomeAssistant(str(config_dir))
    # Newer releases read the device registry when loading the auth store, and
    # set it up before loading it.
    if (setup_registry := getattr(dr, "async_setup", None)) is not None:
        setup_registry(hass)
    await dr.async_load(hass)
    hass.auth = await auth_manager_from_config(hass, [{"type": "homeassistant"}], [])
    provider = hass.auth.auth_providers[0]
    assert isinstance(provider, HassAuthProvider)
    await provider.async_initialize()
    assert provider.data is not None
    created = False
    if not any(u["username"] == DEMO_USERNAME for u in provider.data.users):
        # local_only: the password is published, so only the local network may use it.
        user = await hass.auth.async_create_user(
            DEMO_NAME, group_ids=[GROUP_ID_ADMIN], local_only=True
        )
        await provider.async_add_auth(DEMO_USERNAME, DEMO_PASSWORD)
        credentials = await provider.async_get_or_create_credentials(
            {"username": DEMO_USERNAME}
        )
        await hass.auth.async_link_user(user, credentials)
        created = True
    onboarding: Store[dict[str, list[str]]] = Store(
        hass, ONBOARDING_STORAGE_VERSION, ONBOARDING_STORAGE_KEY, private=True
    )
    await onboarding.async_save({"done": list(STEPS)})
    # The auth store saves with a delay; stopping flushes it. This core never
    # started, so the stop has to be forced to reach the final write.
    await hass.async_stop(force=True)
    return created


def create_demo_user(config_dir: Path) -> bool:
    """Add the demo owner and mark onboarding done; False when it already exists."""
    # Home Assistant's own event loop: newer releases make it with a factory,
    # older ones through an event loop policy.
    make_loop = getattr(runner, "create_event_loop", None)
    if make_loop is None:
        asyncio.set_event_loop_policy(runner.HassEventLoopPolicy(False))
        return asyncio.run(_async_create(config_dir))
    with asyncio.Runner(loop_factory=make_loop) as loop_runner:
        return loop_runner.run(_async_create(config_dir))
