"""Inverter drivers: one per way of talking to an inverter, behind one interface."""

from __future__ import annotations

from .base import (
    SELF_USE,
    Capabilities,
    InverterCommand,
    InverterCommandError,
    InverterDriver,
    InverterError,
    InverterRateLimitedError,
    InverterState,
    InverterUnavailableError,
    InverterWriteError,
    Reason,
)

__all__ = [
    "SELF_USE",
    "Capabilities",
    "InverterCommand",
    "InverterCommandError",
    "InverterDriver",
    "InverterError",
    "InverterRateLimitedError",
    "InverterState",
    "InverterUnavailableError",
    "InverterWriteError",
    "Reason",
]
