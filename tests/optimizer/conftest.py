"""The optimizer needs no Home Assistant: its tests start none."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture so no hass instance is created here."""
