"""Tests of the Fox Cloud driver and client against a local fake of the Open API."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.battery_optimizer.inverters.base import (
    SELF_USE,
    InverterCommand,
    InverterRateLimitedError,
    InverterUnavailableError,
    InverterWriteError,
    Reason,
)
from custom_components.battery_optimizer.inverters.fox_cloud import FoxCloudDriver
from custom_components.battery_optimizer.inverters.fox_cloud_api import (
    CallBudget,
    FoxCloudClient,
    RateLimiter,
)
from custom_components.battery_optimizer.optimizer.model import Mode

from .fake_fox_cloud import API_KEY, SERIAL, FakeClock, FakeFoxCloud

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2024, 7, 1, 21, 10, 30, tzinfo=UTC)  # 22:10:30 BST

type ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


class MemoryStore:
    """A Store stand-in that keeps the saved data in memory."""

    def __init__(self) -> None:
        self.data: Any = None
        self.saves = 0

    async def async_load(self) -> Any:
        return self.data

    async def async_save(self, data: Any) -> None:
        self.data = dict(data)
        self.saves += 1


class Rig:
    """A fake cloud, a clock, a wall time and a driver talking to them."""

    def __init__(
        self, server: TestServer, fake: FakeFoxCloud, session: aiohttp.ClientSession
    ) -> None:
        self.server, self.fake, self.session = server, fake, session
        self.now = NOW
        self.store = MemoryStore()

    def driver(
        self, *, key: str = API_KEY, serial: str = SERIAL, limit: int = 1400
    ) -> FoxCloudDriver:
        clock = self.fake.clock
        client = FoxCloudClient(
            self.session,
            key,
            budget=CallBudget(self.store, limit=limit, now=lambda: self.now),
            limiter=RateLimiter(clock=clock.monotonic, sleep=clock.sleep),
            base_url=str(self.server.make_url("/")),
            now=lambda: self.now,
        )
        return FoxCloudDriver(
            client,
            serial,
            tz=LONDON,
            reserve_soc_pct=5.0,
            max_power_kw=6.0,
            now=lambda: self.now,
        )


@pytest.fixture
async def rig(
    socket_enabled: None, aiohttp_server: ServerFactory
) -> AsyncGenerator[Rig]:
    """A driver against the fake cloud; connections stay limited to 127.0.0.1."""
    fake = FakeFoxCloud(FakeClock())
    server = await aiohttp_server(fake.app())
    async with aiohttp.ClientSession() as session:
        yield Rig(server, fake, session)


def _group(
    start: tuple[int, int], end: tuple[int, int], mode: str, **extra: int
) -> dict[str, Any]:
    group = {
        "enable": 1,
        "startHour": start[0],
        "startMinute": start[1],
        "endHour": end[0],
        "endMinute": end[1],
        "workMode": mode,
        "minSocOnGrid": 10,
        "fdSoc": 10,
        "fdPwr": 0,
        "maxSoc": 100,
    }
    group.update(extra)
    return group


async def test_force_charge_across_midnight_then_no_rewrite(rig: Rig) -> None:
    driver = rig.driver()
    assert driver.capabilities.power_unit == "W"
    assert driver.capabilities.max_calls_per_day == 1400
    until = datetime(2024, 7, 2, 0, 30, tzinfo=UTC)  # 01:30 BST
    command = InverterCommand(Mode.FORCE_CHARGE, until, 3.5, 90.0)
    assert await driver.async_ensure(command)
    assert rig.fake.writes() == [
        {
            "deviceSN": SERIAL,
            "groups": [
                _group((0, 0), (1, 29), "ForceCharge", fdSoc=10, fdPwr=3500, maxSoc=90),
                _group((1, 30), (22, 9), "SelfUse"),
                _group((22, 10), (23, 59), "ForceCharge", fdPwr=3500, maxSoc=90),
            ],
        }
    ]
    state = await driver.async_read_state()
    assert (state.mode, state.power_kw, state.target_soc_pct) == (
        Mode.FORCE_CHARGE,
        3.5,
        90.0,
    )
    assert (state.until, state.soc_pct) == (until, 55.0)
    # Read-back matches: the next cycle writes nothing.
    assert not await driver.async_ensure(command)
    assert len(rig.fake.writes()) == 1
    assert rig.fake.violations == []
    # The limiter, not the server, kept the calls a second apart.
    assert rig.fake.clock.slept == [1.0] * (len(rig.fake.requests) - 1)
    assert rig.store.data == {"day": "2024-07-01", "count": len(rig.fake.requests)}


async def test_force_discharge_and_release(rig: Rig) -> None:
    driver = rig.driver()
    until = NOW + timedelta(minutes=19, seconds=30)
    command = InverterCommand(Mode.FORCE_DISCHARGE, until, 2.0, 30.0)
    await driver.async_apply(command)
    assert rig.fake.groups[1] == _group(
        (22, 10), (22, 29), "ForceDischarge", fdSoc=30, fdPwr=2000
    )
    state = await driver.async_read_state()
    assert driver.matches(state, command)
    assert not driver.matches(state, SELF_USE)
    await driver.async_release()
    assert rig.fake.groups == [_group((0, 0), (23, 59), "SelfUse")]
    assert driver.matches(await driver.async_read_state(), SELF_USE)
    assert rig.fake.violations == []
    # Writes two seconds apart although reads came in between.
    assert rig.fake.clock.slept[-1] == 1.0


async def test_writes_wait_two_seconds(rig: Rig) -> None:
    driver = rig.driver()
    hold = InverterCommand(Mode.HOLD, NOW + timedelta(hours=1))
    await driver.async_apply(hold)
    await driver.async_apply(
        InverterCommand(Mode.FEED_IN_FIRST, NOW + timedelta(hours=1))
    )
    assert rig.fake.clock.slept == [2.0]
    assert rig.fake.violations == []
    assert rig.fake.groups[1]["workMode"] == "Feedin"


async def test_scheduler_states_read_back(rig: Rig) -> None:
    driver = rig.driver()
    rig.fake.groups = [_group((22, 0), (22, 59), "ForceCharge", fdPwr=3000)]
    assert (await driver.async_read_state()).mode is Mode.SELF_USE  # scheduler off
    rig.fake.enable = 1
    state = await driver.async_read_state()
    assert (state.mode, state.until) == (
        Mode.FORCE_CHARGE,
        datetime(2024, 7, 1, 22, tzinfo=UTC),
    )
    rig.fake.groups = [_group((23, 0), (23, 59), "ForceCharge", fdPwr=3000)]
    state = await driver.async_read_state()
    assert (state.mode, state.raw["forced_groups"]) == (Mode.SELF_USE, "1")
    rig.fake.groups = [_group((22, 0), (23, 59), "Backup")]
    state = await driver.async_read_state()
    assert (state.mode, state.until, state.target_soc_pct) == (
        Mode.HOLD,
        datetime(2024, 7, 1, 23, tzinfo=UTC),
        None,
    )
    rig.fake.groups = [_group((0, 0), (23, 59), "SelfUse")]
    assert (await driver.async_read_state()).mode is Mode.SELF_USE


async def test_too_frequent_backs_off_with_growing_delay(rig: Rig) -> None:
    driver = rig.driver()
    rig.fake.errnos = [41200]
    with pytest.raises(InverterRateLimitedError) as err:
        await driver.async_read_soc()
    assert err.value.reason is Reason.RATE_LIMITED
    assert err.value.retry_after == NOW + timedelta(seconds=10)
    # Within the back-off nothing reaches the server.
    calls = len(rig.fake.requests)
    with pytest.raises(InverterRateLimitedError) as err:
        await driver.async_read_soc()
    assert err.value.reason is Reason.BACKING_OFF
    assert len(rig.fake.requests) == calls
    rig.fake.clock.seconds += 10
    rig.fake.errnos = [40400]
    with pytest.raises(InverterRateLimitedError) as err:
        await driver.async_read_soc()
    assert err.value.retry_after == NOW + timedelta(seconds=20)
    rig.fake.clock.seconds += 20
    assert await driver.async_read_soc() == 55.0
    assert driver._client.limiter.backoff_s == 0.0


async def test_quota_exhausted_stops_until_next_utc_day(rig: Rig) -> None:
    driver = rig.driver(limit=50)
    rig.fake.errnos = [40402]
    with pytest.raises(InverterRateLimitedError) as err:
        await driver.async_read_soc()
    assert err.value.reason is Reason.QUOTA_EXHAUSTED
    assert err.value.retry_after == datetime(2024, 7, 2, tzinfo=UTC)
    assert rig.store.data == {"day": "2024-07-01", "count": 50}
    # A restart (new driver, same store) still makes no call today.
    calls = len(rig.fake.requests)
    rig.fake.clock.seconds += 5
    with pytest.raises(InverterRateLimitedError) as err:
        await rig.driver(limit=50).async_read_soc()
    assert err.value.reason is Reason.DAILY_BUDGET
    assert len(rig.fake.requests) == calls
    rig.now = datetime(2024, 7, 2, 0, 1, tzinfo=UTC)
    assert await rig.driver(limit=50).async_read_soc() == 55.0


async def test_daily_budget_stops_calls_at_the_cap(rig: Rig) -> None:
    rig.store.data = {"day": "2024-07-01", "count": 1}
    driver = rig.driver(limit=3)
    for _ in range(2):
        await driver.async_read_soc()
    with pytest.raises(InverterRateLimitedError) as err:
        await driver.async_read_soc()
    assert err.value.reason is Reason.DAILY_BUDGET
    assert len(rig.fake.requests) == 2
    assert driver._client.budget.used == 3


async def test_other_errnos(rig: Rig) -> None:
    driver = rig.driver()
    rig.fake.errnos = [44096, 44096]
    with pytest.raises(InverterWriteError) as err:
        await driver.async_release()
    assert (err.value.reason, err.value.errno) == (Reason.API_ERROR, 44096)
    rig.fake.clock.seconds += 2
    with pytest.raises(InverterUnavailableError) as unavailable:
        await driver.async_read_state()
    assert unavailable.value.reason is Reason.API_ERROR


async def test_validate(rig: Rig) -> None:
    await rig.driver().async_validate()
    rig.fake.clock.seconds += 1
    with pytest.raises(InverterUnavailableError) as err:
        await rig.driver(key="wrong").async_validate()
    assert err.value.reason is Reason.INVALID_AUTH
    rig.fake.clock.seconds += 1
    with pytest.raises(InverterUnavailableError) as err:
        await rig.driver(serial="NOPE").async_validate()
    assert err.value.reason is Reason.UNKNOWN_SERIAL


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (web.Response(status=500), Reason.CANNOT_CONNECT),
        (web.Response(text="<html>"), Reason.INVALID_RESPONSE),
        (web.json_response({"msg": "no errno"}), Reason.INVALID_RESPONSE),
        (web.json_response({"errno": 0, "result": {}}), Reason.INVALID_RESPONSE),
    ],
)
async def test_bad_replies(rig: Rig, reply: web.Response, reason: Reason) -> None:
    rig.fake.replies = [reply]
    with pytest.raises(InverterUnavailableError) as err:
        await rig.driver().async_read_soc()
    assert err.value.reason is reason


async def test_odd_payloads(rig: Rig) -> None:
    driver = rig.driver()
    rig.fake.replies = [
        web.json_response(
            {"errno": 0, "result": [{"datas": [{"variable": "pvPower", "value": 1}]}]}
        ),
        web.json_response({"errno": 0, "result": []}),
    ]
    assert await driver.async_read_soc() is None
    rig.fake.clock.seconds += 1
    with pytest.raises(InverterUnavailableError) as err:
        await driver.async_read_state()
    assert err.value.reason is Reason.INVALID_RESPONSE


async def test_network_errors(rig: Rig) -> None:
    driver = rig.driver()
    await rig.server.close()
    with pytest.raises(InverterUnavailableError) as err:
        await driver.async_read_soc()
    assert err.value.reason is Reason.CANNOT_CONNECT
