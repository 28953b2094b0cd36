"""The stand-in's ModbusController: polls the hardware, caches reads, writes.

Like foxess_modbus's modbus_controller.py, entities read the cache the last
poll filled; a value written less than five seconds ago is read back as
written; a failed write raises the client's own error, which is not a
HomeAssistantError; five failed polls in a row make every entity unavailable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum, auto
import logging
from typing import Any, Protocol

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util, slugify

from .const import (
    DOMAIN,
    FAILED_POLLS_FOR_DISCONNECTION,
    INVERTER_WRITE_DELAY_S,
    ModelProfile,
)
from .hardware import Hardware
from .remote_control import RemoteControlManager

_LOGGER = logging.getLogger(__name__)

WRITE_ERROR_MODBUS = "modbus"
WRITE_ERROR_HOME_ASSISTANT = "home_assistant"
FAIL_UNTIL_CLEARED = -1


class ModbusClientFailedError(Exception):
    """A read or write the inverter refused, as foxess_modbus's client raises it."""


@dataclass(slots=True)
class Faults:
    """Failures a test or the demo injects, shared by the stand-in's inverters.

    `writes` and `polls` count the next writes or polls that fail; -1 fails
    every one until cleared with 0.
    """

    writes: int = 0
    write_error: str = WRITE_ERROR_MODBUS
    polls: int = 0

    def take_write(self) -> bool:
        """Whether the next write fails, counting it."""
        if self.writes > 0:
            self.writes -= 1
            return True
        return self.writes == FAIL_UNTIL_CLEARED

    def take_poll(self) -> bool:
        """Whether the next poll fails, counting it."""
        if self.polls > 0:
            self.polls -= 1
            return True
        return self.polls == FAIL_UNTIL_CLEARED


class ControllerEntity(Protocol):
    """What the controller tells its entities."""

    def update_callback(self, changed: set[str]) -> None:
        """Registers in `changed` were read or written."""

    def is_connected_changed_callback(self) -> None:
        """The inverter was lost or found again."""


class ConnectionState(Enum):
    """foxess_modbus's connection states: entities are available unless DISCONNECTED."""

    INITIAL = auto()
    CONNECTED = auto()
    DISCONNECTED = auto()


@dataclass(slots=True)
class RegisterValue:
    """The last polled value of a register and the last one written."""

    read_value: float | None = None
    written_value: float | None = None
    written_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InverterDetails:
    """How the inverter was configured: names, prefixes and timing."""

    profile: ModelProfile
    friendly_name: str = ""
    entity_id_prefix: str = ""
    unique_id_prefix: str = ""
    poll_rate_s: float = 10.0
    first_poll_delay_s: float = 10.0
    echo_writes: bool = True


@dataclass
class Controller:
    """One inverter as foxess_modbus sees it."""

    hass: HomeAssistant
    hardware: Hardware
    details: InverterDetails
    store: Store[dict[str, Any]]
    faults: Faults
    remote_control: RemoteControlManager | None = field(init=False, default=None)
    _data: dict[str, RegisterValue] = field(init=False, default_factory=dict)
    _listeners: set[ControllerEntity] = field(init=False, default_factory=set)
    _state: ConnectionState = field(init=False, default=ConnectionState.INITIAL)
    _failed_polls: int = field(init=False, default=0)
    _polling: bool = field(init=False, default=False)
    _unsubscribe: list[Callable[[], None]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        """Know every register, and create the remote-control manager."""
        now = dt_util.utcnow()
        self._data = {name: RegisterValue() for name in self.hardware.read(now)}
        if self.details.profile.remote_control:
            self.remote_control = RemoteControlManager(self, self.details.poll_rate_s)

    @property
    def is_connected(self) -> bool:
        """False only after repeated failed polls."""
        return self._state is not ConnectionState.DISCONNECTED

    @property
    def inverter_capacity_w(self) -> int:
        """The inverter's power, which bounds the remote-control powers."""
        return int(self.hardware.site.inverter_power_w)

    @property
    def device_info(self) -> DeviceInfo:
        """The device foxess_modbus registers, identified the way it does."""
        name = self.details.friendly_name
        model = self.details.profile.name
        return DeviceInfo(
            # foxess_modbus's identifier has four parts; its services read the
            # friendly name from the last.
            identifiers={(DOMAIN, model, "AUX", name)},  # type: ignore[arg-type]
            name=f"FoxESS - Modbus ({name})" if name else "FoxESS - Modbus",
            model=f"{model} - AUX",
            manufacturer="FoxESS",
        )

    def entity_id(self, platform: str, key: str) -> str:
        """`<platform>.<prefix>_<key>`, or `<platform>.<key>` without a prefix."""
        prefix = self.details.entity_id_prefix
        return f"{platform}.{slugify(f'{prefix}_{key}' if prefix else key)}"

    def unique_id(self, key: str) -> str:
        """`foxess_modbus_<prefix>_<key>`, or `foxess_modbus_<key>`."""
        prefix = self.details.unique_id_prefix
        return f"foxess_modbus_{prefix}_{key}" if prefix else f"foxess_modbus_{key}"

    def register_entity(self, entity: ControllerEntity) -> None:
        """Tell `entity` about reads and writes from now on."""
        self._listeners.add(entity)

    def remove_entity(self, entity: ControllerEntity) -> None:
        """Stop telling `entity`."""
        self._listeners.discard(entity)

    def read(self, name: str) -> float | None:
        """The cached value: written within five seconds, else last polled."""
        value = self._data.get(name)
        if value is None:
            return None
        if (
            value.written_value is not None
            and value.written_at is not None
            and (dt_util.utcnow() - value.written_at).total_seconds()
            < INVERTER_WRITE_DELAY_S
        ):
            return value.written_value
        return value.read_value

    async def write_registers(self, values: Mapping[str, float]) -> None:
        """Write registers in one request, as the inverter takes them."""
        described = {str(name): value for name, value in values.items()}
        _LOGGER.debug("Writing registers %s", described)
        if self.faults.take_write():
            _LOGGER.error("Failed to write registers %s", described)
            if self.faults.write_error == WRITE_ERROR_HOME_ASSISTANT:
                raise HomeAssistantError(f"Error writing registers {described}")
            raise ModbusClientFailedError(
                f"Error writing registers {described} from stand-in: "
                "ExceptionResponse(dev_id=247, function_code=144, exception_code=4)"
            )
        now = dt_util.utcnow()
        for name, value in values.items():
            self.hardware.write(name, value, now)
        await self.async_save()
        if not self.details.echo_writes:
            return
        for name, value in values.items():
            self._data[name].written_value = float(value)
            self._data[name].written_at = now
        self._notify(set(values))

    async def async_save(self) -> None:
        """Save the hardware, which outlives Home Assistant."""
        await self.store.async_save(self.hardware.to_dict())

    def start(self) -> None:
        """Poll first after the first-poll delay, then every poll interval."""
        self._unsubscribe.append(
            async_call_later(
                self.hass, self.details.first_poll_delay_s, self._async_first_poll
            )
        )

    async def async_stop(self) -> None:
        """Stop polling; the hardware carries on with what it was told."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        self.hardware.advance(dt_util.utcnow())
        await self.async_save()

    async def _async_first_poll(self, _now: datetime) -> None:
        self._unsubscribe.append(
            async_track_time_interval(
                self.hass,
                self.async_poll,
                timedelta(seconds=self.details.poll_rate_s),
                name="foxess_modbus stand-in poll",
            )
        )
        await self.async_poll()

    async def async_poll(self, _now: datetime | None = None) -> None:
        """Read every register, tell the entities, then run remote control."""
        if self._polling:
            _LOGGER.warning("Aborting refresh: a previous refresh is still running")
            return
        self._polling = True
        try:
            await self._async_read_all()
        finally:
            self._polling = False
        if self.remote_control is not None:
            try:
                await self.remote_control.poll_complete_callback()
            except (ModbusClientFailedError, HomeAssistantError):
                # foxess_modbus lets this escape into the poll timer, which
                # logs it; the next poll tries again.
                _LOGGER.exception("Remote control update failed")

    async def _async_read_all(self) -> None:
        if self.faults.take_poll():
            self._failed_polls += 1
            if (
                self._state is not ConnectionState.DISCONNECTED
                and self._failed_polls >= FAILED_POLLS_FOR_DISCONNECTION
            ):
                _LOGGER.warning(
                    "%s failed polls: now not connected", self._failed_polls
                )
                self._state = ConnectionState.DISCONNECTED
                self._notify_connected_changed()
            return
        values = self.hardware.read(dt_util.utcnow())
        for name, value in values.items():
            self._data[name].read_value = value
        await self.async_save()
        self._notify(set(values))
        self._failed_polls = 0
        if self._state is ConnectionState.DISCONNECTED:
            self._state = ConnectionState.CONNECTED
            self._notify_connected_changed()
            if self.remote_control is not None:
                self.remote_control.became_connected()
        else:
            self._state = ConnectionState.CONNECTED

    def _notify(self, changed: set[str]) -> None:
        for listener in list(self._listeners):
            listener.update_callback(changed)

    def _notify_connected_changed(self) -> None:
        for listener in list(self._listeners):
            listener.is_connected_changed_callback()
