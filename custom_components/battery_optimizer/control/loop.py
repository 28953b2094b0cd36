"""Automatic control: carry the plan out through the inverter driver, safely.

After every plan the loop decides the command for now (`policy.decide`)
and drives it: read back, write only if different, verify, retry once, then a
repair issue. Forced modes end at their `until`: the inverter may repeat a
schedule daily, so the loop itself releases it then. A plan older than
15 minutes, unloading the entry and Home Assistant stopping all return the
inverter to Self Use. A manual command from `set_mode` holds until it expires.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_time_interval,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_HYSTERESIS_P,
    CONTROL_STALE_AFTER,
    CONTROL_TICK,
    DEFAULT_HYSTERESIS_P,
    DOMAIN,
)
from ..entry.issues import (
    ISSUE_CONTROL_QUOTA,
    ISSUE_CONTROL_RATE_LIMITED,
    ISSUE_CONTROL_WRITE_FAILED,
    async_clear_control_issues,
    async_raise_control_issue,
)
from ..entry.settings import battery_from_entry, site_from_entry
from ..inverters.base import SELF_USE, InverterCommand, InverterDriver, Reason
from ..optimizer.model import Mode
from ..plan.result import PlanResult
from .policy import (
    UNREACHABLE_REASONS,
    ControlSettings,
    DriveOutcome,
    Failure,
    async_drive,
    decide,
    target_reached,
)

_LOGGER = logging.getLogger(__name__)

# After a failed write the same command waits this long, so a broken inverter
# link is not hammered every minute (and a cloud budget is not spent on it).
RETRY_AFTER_FAILURE = timedelta(minutes=5)
# After start-up, an inverter whose entities read nothing yet is not a fault.
STARTUP_GRACE = timedelta(minutes=3)
RATE_LIMIT_REASONS = frozenset({Reason.RATE_LIMITED, Reason.BACKING_OFF})
QUOTA_REASONS = frozenset({Reason.DAILY_BUDGET, Reason.QUOTA_EXHAUSTED})


@dataclass(frozen=True, slots=True)
class Override:
    """A command from `set_mode`, in force until `until`."""

    command: InverterCommand
    until: datetime


class ControlLoop:
    """Applies the plan's current slot through one driver while switched on."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        coordinator: DataUpdateCoordinator[PlanResult],
        driver: InverterDriver,
    ) -> None:
        """Control the inverter behind `driver` from the plans of `coordinator`."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.driver = driver
        hysteresis_p = float(entry.options.get(CONF_HYSTERESIS_P, DEFAULT_HYSTERESIS_P))
        self.settings = ControlSettings.from_model(
            battery_from_entry(entry, None), site_from_entry(entry), hysteresis_p
        )
        self.enabled = False
        self.override: Override | None = None
        # The command last known to be in force on the inverter, and the plan's
        # command hysteresis compares against (None after a manual command).
        self.applied: InverterCommand | None = None
        self._held: InverterCommand | None = None
        self.writes = 0
        self._failed: tuple[InverterCommand, datetime] | None = None
        self._failing = False
        self._started_at: datetime | None = None
        # Cycles, manual commands and shutdown must never interleave their writes.
        self._lock = asyncio.Lock()
        self._unsubs: list[CALLBACK_TYPE] = []
        self._until_unsub: CALLBACK_TYPE | None = None
        self._listeners: list[Callable[[], None]] = []
        self._stopped = False
        self._stop_unsub: CALLBACK_TYPE | None = None

    @callback
    def async_start(self) -> None:
        """Follow the plan coordinator, the clock and Home Assistant stopping."""
        self._started_at = dt_util.utcnow()
        self._unsubs = [
            self.coordinator.async_add_listener(self._on_plan),
            async_track_time_interval(self.hass, self._on_tick, CONTROL_TICK),
        ]
        self._stop_unsub = self.hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_STOP, self._async_on_stop
        )

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `update` whenever the control state changes (switch, override)."""
        self._listeners.append(update)

        @callback
        def remove() -> None:
            if update in self._listeners:
                self._listeners.remove(update)

        return remove

    @callback
    def _notify(self) -> None:
        for update in list(self._listeners):
            update()

    @property
    def engaged(self) -> bool:
        """Whether the loop is responsible for the inverter's mode right now."""
        return (
            self.enabled
            or self.override is not None
            or (self.applied is not None and self.applied.is_forced)
        )

    async def async_set_enabled(self, enabled: bool, *, report: bool = True) -> None:
        """Switch automatic control on or off, and act on it at once.

        With `report`, an inverter that does not take the command raises a
        translated HomeAssistantError for the user who asked.
        """
        self.enabled = enabled
        self._failed = None
        self._notify()
        failure = await self.async_cycle(full=True)
        if report:
            _raise_failure(failure)

    async def async_set_override(
        self, command: InverterCommand, until: datetime
    ) -> None:
        """Drive `command` now and hold it until `until`, whatever the plan says."""
        self.override = Override(command, until)
        self._held = None
        self._failed = None
        self._notify()
        failure = await self.async_cycle(full=True)
        if failure is not None:
            # Told it failed, the user decides whether to ask again.
            self.override = None
            self._failed = None
            self._notify()
        _raise_failure(failure)

    async def async_resume(self) -> None:
        """End a manual command: the plan (or Self Use when off) takes over."""
        self.override = None
        self._failed = None
        self._notify()
        _raise_failure(await self.async_cycle(full=True))

    def wanted(self, now: datetime) -> InverterCommand | None:
        """The command for `now`; None when the loop leaves the inverter alone."""
        soc_pct = self.coordinator.data.soc_pct if self.coordinator.data else None
        if self.override is not None:
            if now < self.override.until and not target_reached(
                self.override.command, soc_pct
            ):
                return self.override.command
            self.override = None
            self._notify()
        if not self.enabled:
            # A forced mode the loop wrote must not outlive the loop's interest.
            return SELF_USE if self.engaged else None
        result = self.coordinator.data
        if (
            result is None
            or result.soc_stale
            or now - result.generated_at > CONTROL_STALE_AFTER
        ):
            return SELF_USE
        command = decide(
            result.plan,
            now,
            result.soc_pct,
            self._held,
            self.driver.capabilities,
            self.settings,
        )
        if target_reached(command, soc_pct):
            # The inverter may not stop by itself (foxess_modbus remote control
            # charges on to its own Max SoC): keep the energy until the run ends.
            return InverterCommand(Mode.HOLD, command.until)
        return command

    async def async_cycle(self, *, full: bool) -> Failure | None:
        """Decide and drive; `full` reads the inverter even if nothing changed here.

        Returns what failed, if the inverter did not take the command.
        """
        if self._stopped:
            return None
        async with self._lock:
            now = dt_util.utcnow()
            command = self.wanted(now)
            if command is None:
                return None
            if not full and command == self.applied:
                return None
            if (
                self._failed is not None
                and self._failed[0] == command
                and now < self._failed[1]
            ):
                return None
            return await self._async_drive(command, now)

    async def _async_drive(
        self, command: InverterCommand, now: datetime
    ) -> Failure | None:
        outcome = await async_drive(self.driver, command)
        self.writes += outcome.writes
        if outcome.ok:
            self.applied = command
            self._held = command if self.override is None else None
            self._failed = None
            self._schedule_until(command)
            async_clear_control_issues(self.hass, self.entry.entry_id)
            if self._failing:
                self._failing = False
                _LOGGER.info("The inverter takes commands again (%s)", command.mode)
            return None
        error = outcome.error
        if (
            error is not None
            and error.reason in UNREACHABLE_REASONS
            and self._started_at is not None
            and now - self._started_at < STARTUP_GRACE
        ):
            # The inverter's integration is still coming up (its entities read
            # nothing until its first poll): try again on the next tick.
            _LOGGER.debug("Inverter not readable yet, waiting: %s", error)
            self._failed = (command, now)
            return None
        self._failed = (command, self._retry_time(outcome, now))
        self._raise_issue(command, outcome)
        return Failure(command, outcome)

    def _retry_time(self, outcome: DriveOutcome, now: datetime) -> datetime:
        retry_after = getattr(outcome.error, "retry_after", None)
        if isinstance(retry_after, datetime):
            return max(retry_after, now)
        return now + RETRY_AFTER_FAILURE

    def _schedule_until(self, command: InverterCommand) -> None:
        if self._until_unsub is not None:
            self._until_unsub()
            self._until_unsub = None
        if command.until is not None:
            self._until_unsub = async_track_point_in_utc_time(
                self.hass, self._on_until, command.until
            )

    @callback
    def _on_plan(self) -> None:
        self._spawn(full=True)

    @callback
    def _on_tick(self, _: datetime) -> None:
        self._spawn(full=False)

    @callback
    def _on_until(self, _: datetime) -> None:
        self._until_unsub = None
        # The inverter may repeat the ended mode daily: read it back and release.
        self._spawn(full=True)

    @callback
    def _spawn(self, *, full: bool) -> None:
        self.entry.async_create_background_task(
            self.hass, self.async_cycle(full=full), f"{DOMAIN} control"
        )

    async def _async_on_stop(self, _: Event) -> None:
        # A listener that has fired is gone: removing it again would be an error.
        self._stop_unsub = None
        await self.async_shutdown()

    async def async_shutdown(self) -> None:
        """Stop the loop and return the inverter to Self Use if the loop drove it."""
        if self._stopped:
            return
        self._stopped = True
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []
        if self._stop_unsub is not None:
            self._stop_unsub()
            self._stop_unsub = None
        if self._until_unsub is not None:
            self._until_unsub()
            self._until_unsub = None
        if not self.engaged:
            return
        async with self._lock:
            outcome = await async_drive(self.driver, SELF_USE)
        self.writes += outcome.writes
        if not outcome.ok:
            _LOGGER.warning(
                "Could not return the inverter to Self Use on shutdown: %s",
                outcome.error,
            )

    def _raise_issue(self, command: InverterCommand, outcome: DriveOutcome) -> None:
        error = outcome.error
        reason = error.reason if error is not None else Reason.WRITE_FAILED
        # One warning per outage; the retries that follow stay at debug level.
        log = _LOGGER.debug if self._failing else _LOGGER.warning
        self._failing = True
        log(
            "Could not set the inverter to %s after %s writes: %s",
            command.mode,
            outcome.writes,
            error,
        )
        if reason is Reason.INVALID_AUTH:
            # Only a new key helps: Home Assistant asks the user for it.
            self.entry.async_start_reauth(self.hass)
            return
        key = ISSUE_CONTROL_WRITE_FAILED
        if reason in RATE_LIMIT_REASONS:
            key = ISSUE_CONTROL_RATE_LIMITED
        elif reason in QUOTA_REASONS:
            key = ISSUE_CONTROL_QUOTA
        async_raise_control_issue(
            self.hass, self.entry, key, str(command.mode), str(error)
        )


def _raise_failure(failure: Failure | None) -> None:
    """Tell the user who asked that the inverter did not take the command."""
    if failure is None:
        return
    raise HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="inverter_command_failed",
        translation_placeholders={
            "mode": failure.command.mode.value,
            "error": str(failure.outcome.error or "no answer"),
        },
    )
