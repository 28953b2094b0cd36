"""Tests of the slot grid: tariff half-hours, the first one partial."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from custom_components.battery_optimizer.optimizer.horizon import (
    next_boundary,
    slot_grid,
)


def test_first_slot_runs_to_the_next_half_hour() -> None:
    now = datetime(2023, 1, 10, 10, 7, 30, tzinfo=UTC)
    grid = slot_grid(now, timedelta(hours=48))
    assert grid[0] == (now, pytest.approx(22.5 / 60))
    assert grid[1][0] == datetime(2023, 1, 10, 10, 30, tzinfo=UTC)
    assert all(hours == 0.5 for _, hours in grid[1:-1])
    # The horizon is exact: the last slot is cut where 48 hours end.
    assert sum(hours for _, hours in grid) == pytest.approx(48)
    assert grid[-1][0] + timedelta(hours=grid[-1][1]) == now + timedelta(hours=48)


def test_on_a_boundary_every_slot_is_whole() -> None:
    now = datetime(2023, 1, 10, 10, 30, tzinfo=UTC)
    grid = slot_grid(now, timedelta(hours=48))
    assert len(grid) == 96
    assert all(hours == 0.5 for _, hours in grid)
    assert next_boundary(now) == datetime(2023, 1, 10, 11, 0, tzinfo=UTC)


def test_local_time_input_gives_a_utc_grid_across_a_dst_change() -> None:
    london = ZoneInfo("Europe/London")
    # 00:10 local on the day clocks go forward: the local day has 46 half-hours.
    now = datetime(2023, 3, 26, 0, 10, tzinfo=london)
    grid = slot_grid(now, timedelta(hours=24))
    assert all(start.tzinfo is UTC for start, _ in grid)
    assert all(start.minute in (0, 30) for start, _ in grid[1:])
    gaps = {b[0] - a[0] for a, b in pairwise(grid[1:])}
    assert gaps == {timedelta(minutes=30)}


def test_empty_horizon_has_no_slots() -> None:
    now = datetime(2023, 1, 10, 10, 7, tzinfo=UTC)
    assert slot_grid(now, timedelta(0)) == []
