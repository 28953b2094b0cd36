"""Constants and inverter model profiles of the foxess_modbus stand-in.

Keys, names, units and ranges are those of nathanmarlor/foxess_modbus
(custom_components/foxess_modbus/entities/*.py, remote_control_manager.py,
modbus_controller.py), so drivers see the entities users have.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

DOMAIN: Final = "foxess_modbus"

# Config entry keys. The first four are foxess_modbus's own inverter keys.
CONF_POLL_RATE: Final = "poll_rate"
CONF_FRIENDLY_NAME: Final = "friendly_name"
CONF_ENTITY_ID_PREFIX: Final = "entity_id_prefix"
CONF_UNIQUE_ID_PREFIX: Final = "unique_id_prefix"
CONF_MODEL: Final = "model"
CONF_FIRST_POLL_DELAY: Final = "first_poll_delay"
CONF_ECHO_WRITES: Final = "echo_writes"
CONF_CAPACITY_KWH: Final = "capacity_kwh"
CONF_INVERTER_POWER_W: Final = "inverter_power_w"
CONF_BATTERY_VOLTAGE: Final = "battery_voltage"
CONF_EFFICIENCY: Final = "efficiency"
CONF_SOC: Final = "soc"
CONF_LOAD_KW: Final = "load_kw"
CONF_PV_KW: Final = "pv_kw"

# foxess_modbus polls every 10 s over serial and 15 s over TCP.
DEFAULT_POLL_RATE_S: Final = 10.0
DEFAULT_CAPACITY_KWH: Final = 10.4
# Four HV2600 packs: 10.4 kWh at 204.8 V nominal.
DEFAULT_BATTERY_VOLTAGE: Final = 204.8
DEFAULT_EFFICIENCY: Final = 0.95
DEFAULT_SOC: Final = 50.0
DEFAULT_LOAD_KW: Final = 0.45

# modbus_controller.py: a written value is read back for this long, then the
# last polled value again.
INVERTER_WRITE_DELAY_S: Final = 5.0
# modbus_controller.py: failed polls before the entities become unavailable.
FAILED_POLLS_FOR_DISCONNECTION: Final = 5
# Charge periods of the models that have them.
CHARGE_PERIOD_COUNT: Final = 2

SELF_USE: Final = "Self Use"
FEED_IN_FIRST: Final = "Feed-in First"
BACK_UP: Final = "Back-up"
PEAK_SHAVING: Final = "Peak Shaving"
FORCE_CHARGE: Final = "Force Charge"
FORCE_DISCHARGE: Final = "Force Discharge"

# Services of the real integration, and the stand-in's own for tests.
SERVICE_UPDATE_CHARGE_PERIOD: Final = "update_charge_period"
SERVICE_FAIL_WRITES: Final = "stand_in_fail_writes"
SERVICE_FAIL_POLLS: Final = "stand_in_fail_polls"
SERVICE_SET_SITE: Final = "stand_in_set_site"


class Register(StrEnum):
    """The inverter values the stand-in keeps, in engineering units.

    foxess_modbus talks in numbered registers; names keep this model readable.
    The power registers follow Fox's signs: battery power is positive when
    discharging, remote-control active power positive when exporting.
    """

    WORK_MODE = "work_mode"  # 41000 (49203 on EVO)
    MAX_CHARGE_CURRENT = "max_charge_current"  # 41007, A
    MAX_DISCHARGE_CURRENT = "max_discharge_current"  # 41008, A
    MIN_SOC = "min_soc"  # 41009, %
    MAX_SOC = "max_soc"  # 41010, %
    MIN_SOC_ON_GRID = "min_soc_on_grid"  # 41011, %
    BATTERY_SOC = "battery_soc"  # 31024, %
    BATTERY_VOLTAGE = "invbatvolt"  # 31020, V
    BATTERY_POWER = "invbatpower"  # 31022, kW
    LOAD_POWER = "load_power"  # 31016, kW
    PV_POWER = "pv_power"  # pv1 + pv2, kW
    REMOTE_ENABLE = "remote_enable"  # 44000
    TIMEOUT_SET = "timeout_set"  # 44001, s
    ACTIVE_POWER = "active_power"  # 44002, W


def period_register(period: int, part: str) -> str:
    """The register of charge period 1 or 2: part is start, end or from_grid.

    Start and end hold hour << 8 | minute; both 0 means the period is off.
    """
    return f"period_{period}_{part}"


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """What one inverter model offers: work modes, remote control, charge periods.

    H1 over LAN has no work-mode register but a force_charge_mode select; the
    stand-in does not model it.
    """

    name: str
    work_modes: dict[int, str]
    remote_control: bool
    charge_periods: bool

    def work_mode_value(self, option: str) -> int | None:
        """The register value of a work-mode option."""
        return next((k for k, v in self.work_modes.items() if v == option), None)


_H1_WORK_MODES = {0: SELF_USE, 1: FEED_IN_FIRST, 2: BACK_UP, 4: PEAK_SHAVING}

MODELS: Final[dict[str, ModelProfile]] = {
    # H1-G2 (and P1, KH 1.33): remote control and two charge periods.
    "H1-G2": ModelProfile("H1-G2", _H1_WORK_MODES, True, True),
    # H3: remote control, no charge periods.
    "H3": ModelProfile("H3", _H1_WORK_MODES, True, False),
    # EVO: charge periods, no remote control; its work mode is register 49203.
    "EVO": ModelProfile(
        "EVO",
        {1: SELF_USE, 2: FEED_IN_FIRST, 3: BACK_UP, 4: PEAK_SHAVING},
        False,
        True,
    ),
}
DEFAULT_MODEL: Final = "H1-G2"
# H1-5.0-E-G2: the inverter's power, which bounds the remote-control powers.
DEFAULT_INVERTER_POWER_W: Final = 5000
