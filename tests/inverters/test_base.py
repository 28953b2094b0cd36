"""Tests of the driver interface: command validation, matching, midnight splits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.battery_optimizer.inverters.base import (
    SELF_USE,
    Capabilities,
    DailyWindow,
    InverterCommand,
    InverterCommandError,
    InverterError,
    InverterRateLimitedError,
    InverterState,
    InverterWriteError,
    Reason,
    daily_windows,
    state_matches,
    window_end,
)
from custom_components.battery_optimizer.optimizer.model import Mode

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2024, 7, 1, 21, 10, 30, tzinfo=UTC)  # 22:10:30 BST
CAPS = Capabilities(
    remote_control=True,
    charge_periods=False,
    backup_mode=False,
    feed_in_first=True,
    power_unit="kW",
    max_power_kw=5.0,
    min_seconds_between_writes=0.0,
    max_calls_per_day=None,
)


def _reason(command: InverterCommand, caps: Capabilities = CAPS) -> Reason:
    with pytest.raises(InverterCommandError) as err:
        command.validate(NOW, caps)
    return err.value.reason


def test_forced_commands_need_a_future_end_within_a_day() -> None:
    hour = NOW + timedelta(hours=1)
    assert (
        _reason(InverterCommand(Mode.FORCE_CHARGE, None, 3.0)) is Reason.UNTIL_REQUIRED
    )
    naive = InverterCommand(Mode.FEED_IN_FIRST, hour.replace(tzinfo=None))
    assert _reason(naive) is Reason.UNTIL_REQUIRED
    assert _reason(InverterCommand(Mode.FORCE_CHARGE, NOW, 3.0)) is Reason.UNTIL_IN_PAST
    far = InverterCommand(Mode.FORCE_CHARGE, NOW + timedelta(hours=24), 3.0)
    assert _reason(far) is Reason.UNTIL_TOO_FAR
    InverterCommand(Mode.FORCE_CHARGE, hour, 3.0, 90.0).validate(NOW, CAPS)
    SELF_USE.validate(NOW, CAPS)


def test_power_soc_and_mode_are_checked_against_capabilities() -> None:
    hour = NOW + timedelta(hours=1)
    assert (
        _reason(InverterCommand(Mode.FORCE_CHARGE, hour, 5.5))
        is Reason.POWER_OUT_OF_RANGE
    )
    assert (
        _reason(InverterCommand(Mode.FORCE_DISCHARGE, hour, -1))
        is Reason.POWER_OUT_OF_RANGE
    )
    assert (
        _reason(InverterCommand(Mode.FORCE_DISCHARGE, hour, float("nan")))
        is Reason.POWER_OUT_OF_RANGE
    )
    assert (
        _reason(InverterCommand(Mode.FORCE_CHARGE, hour, 1, 101))
        is Reason.SOC_OUT_OF_RANGE
    )
    assert _reason(InverterCommand(Mode.HOLD, hour)) is Reason.MODE_UNSUPPORTED


@pytest.mark.parametrize(
    ("caps", "supported"),
    [
        (
            CAPS,
            {
                Mode.SELF_USE,
                Mode.FORCE_CHARGE,
                Mode.FORCE_DISCHARGE,
                Mode.FEED_IN_FIRST,
            },
        ),
        (
            Capabilities(False, True, True, False, "kW", 3.0, 0.0, None),
            {Mode.SELF_USE, Mode.FORCE_CHARGE, Mode.HOLD},
        ),
    ],
)
def test_capabilities_say_which_modes_work(
    caps: Capabilities, supported: set[Mode]
) -> None:
    assert {mode for mode in Mode if caps.supports(mode)} == supported


def test_errors_carry_reason_codes() -> None:
    write = InverterWriteError(Reason.API_ERROR, "refused", errno=44096)
    assert isinstance(write, InverterError)
    assert (write.reason, write.errno, str(write)) == (
        Reason.API_ERROR,
        44096,
        "refused",
    )
    limited = InverterRateLimitedError(Reason.QUOTA_EXHAUSTED, retry_after=NOW)
    assert (str(limited), limited.retry_after) == ("quota_exhausted", NOW)


def test_matching_compares_mode_power_target_and_held_end() -> None:
    until = NOW + timedelta(minutes=50)
    command = InverterCommand(Mode.FORCE_CHARGE, until, 3.0, 90.0)
    state = InverterState(
        Mode.FORCE_CHARGE, 3.02, 50.0, 90.0, until + timedelta(seconds=40)
    )
    held = Capabilities(True, False, False, False, "W", 5.0, 2.0, 1400, True)
    assert state_matches(state, command, CAPS)
    assert state_matches(state, command, held)
    assert not state_matches(InverterState(Mode.SELF_USE), command, CAPS)
    assert not state_matches(
        InverterState(Mode.FORCE_CHARGE, 3.2, None, 90.0), command, CAPS
    )
    assert not state_matches(
        InverterState(Mode.FORCE_CHARGE, None, None, 90.0), command, CAPS
    )
    assert not state_matches(
        InverterState(Mode.FORCE_CHARGE, 3.0, None, 80.0), command, CAPS
    )
    moved = InverterState(
        Mode.FORCE_CHARGE, 3.0, None, 90.0, until + timedelta(minutes=30)
    )
    assert state_matches(moved, command, CAPS)
    assert not state_matches(moved, command, held)
    assert not state_matches(
        InverterState(Mode.FORCE_CHARGE, 3.0, None, 90.0), command, held
    )
    assert state_matches(InverterState(Mode.SELF_USE, None, 40.0), SELF_USE, held)


def test_windows_split_at_local_midnight() -> None:
    # 22:10:30 BST until 01:30 BST: two local days.
    until = datetime(2024, 7, 2, 0, 30, tzinfo=UTC)
    windows = daily_windows(NOW, until, LONDON)
    assert windows == [
        DailyWindow(datetime(2024, 7, 1).date(), 22 * 60 + 10, 1440),
        DailyWindow(datetime(2024, 7, 2).date(), 0, 90),
    ]
    assert windows[0].start.isoformat() == "22:10:00"
    assert window_end(windows[0], LONDON) == datetime(2024, 7, 1, 23, tzinfo=UTC)
    assert window_end(windows[1], LONDON) == until


def test_window_ending_at_midnight_or_mid_minute() -> None:
    midnight = datetime(2024, 7, 1, 23, 0, tzinfo=UTC)
    assert daily_windows(NOW, midnight, LONDON) == [
        DailyWindow(datetime(2024, 7, 1).date(), 1330, 1440)
    ]
    # An end inside a minute is rounded up so the window covers it.
    odd = NOW + timedelta(minutes=5, seconds=10)
    assert daily_windows(NOW, odd, LONDON)[0].end_minute == 1336


@pytest.mark.parametrize(
    "meant",
    [
        datetime(2023, 10, 29, 0, 30, tzinfo=UTC),  # 01:30 BST, the first one
        datetime(2023, 10, 29, 1, 30, tzinfo=UTC),  # 01:30 GMT, an hour later
    ],
)
def test_window_end_in_the_repeated_autumn_hour_round_trips(meant: datetime) -> None:
    """01:30 happens twice on the autumn change: the end read back is the one meant."""
    start = datetime(2023, 10, 28, 23, 0, tzinfo=UTC)
    windows = daily_windows(start, meant, LONDON)
    assert window_end(windows[-1], LONDON, near=meant) == meant
    # Without a hint the earlier instant is the one a charge window may not pass.
    assert window_end(windows[-1], LONDON) == datetime(2023, 10, 29, 0, 30, tzinfo=UTC)
