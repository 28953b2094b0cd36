"""Tests of the Fox Cloud client alone: request signature and network errors."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from custom_components.battery_optimizer.inverters.base import (
    InverterUnavailableError,
    Reason,
)
from custom_components.battery_optimizer.inverters.fox_cloud_api import (
    FoxCloudClient,
    RateLimiter,
    signature,
)

from .fake_fox_cloud import API_KEY, FakeClock


def test_signature_uses_literal_backslash_sequences() -> None:
    literal = hashlib.md5(b"/op/v1/x\\r\\nkey\\r\\n1700000000000").hexdigest()
    assert signature("/op/v1/x", "key", "1700000000000") == literal
    crlf = hashlib.md5(b"/op/v1/x\r\nkey\r\n1700000000000").hexdigest()
    assert literal != crlf


class _TimeoutSession:
    def post(self, *args: Any, **kwargs: Any) -> Any:
        raise TimeoutError


async def test_timeout_is_cannot_connect() -> None:
    clock = FakeClock()
    client = FoxCloudClient(
        _TimeoutSession(),  # type: ignore[arg-type]
        API_KEY,
        limiter=RateLimiter(clock=clock.monotonic, sleep=clock.sleep),
    )
    with pytest.raises(InverterUnavailableError) as err:
        await client.async_post("/op/v1/device/real/query", {}, write=False)
    assert err.value.reason is Reason.CANNOT_CONNECT
    assert client.budget.used == 1
