"""Turn a `set_mode` call into a checked inverter command, or a translated error."""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.exceptions import ServiceValidationError

from ..const import DOMAIN
from ..inverters.base import (
    MAX_COMMAND_DURATION,
    SELF_USE,
    Capabilities,
    InverterCommand,
    InverterCommandError,
    Reason,
)
from ..optimizer.model import Mode
from .policy import ControlSettings

W_PER_KW = 1000
SECONDS_PER_HOUR = 3600


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def manual_command(
    capabilities: Capabilities,
    settings: ControlSettings,
    voltage_v: float,
    now: datetime,
    *,
    mode: Mode,
    power_kw: float | None,
    current_a: float | None,
    target_soc_pct: float | None,
    duration: timedelta,
) -> tuple[InverterCommand, datetime]:
    """The command a `set_mode` call asks for and when it ends; raise if invalid."""
    max_hours = f"{MAX_COMMAND_DURATION.total_seconds() / SECONDS_PER_HOUR:g}"
    if not timedelta(0) < duration <= MAX_COMMAND_DURATION:
        raise _error("invalid_duration", max_hours=max_hours)
    if power_kw is not None and current_a is not None:
        raise _error("power_and_current")
    until = now + duration
    if mode is Mode.SELF_USE:
        return SELF_USE, until
    if current_a is not None:
        power_kw = current_a * voltage_v / W_PER_KW
    if power_kw is None:
        limit_kw = (
            settings.charge_limit_kw
            if mode is Mode.FORCE_CHARGE
            else settings.discharge_limit_kw
        )
        power_kw = min(limit_kw, capabilities.max_power_kw)
    if mode not in (Mode.FORCE_CHARGE, Mode.FORCE_DISCHARGE):
        # Hold and Feed-in First take no power or target.
        power_kw, target_soc_pct = 0.0, None
    command = InverterCommand(mode, until, power_kw, target_soc_pct)
    try:
        command.validate(now, capabilities)
    except InverterCommandError as err:
        if err.reason is Reason.MODE_UNSUPPORTED:
            raise _error("mode_unsupported", mode=mode.value) from err
        if err.reason is Reason.SOC_OUT_OF_RANGE:
            raise _error("soc_out_of_range") from err
        max_kw = capabilities.max_power_kw
        if current_a is not None:
            raise _error(
                "current_out_of_range",
                max_a=f"{max_kw * W_PER_KW / voltage_v:.0f}",
            ) from err
        raise _error("power_out_of_range", max_kw=f"{max_kw:g}") from err
    return command, until
