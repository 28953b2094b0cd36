"""Prepare the development configuration: demo entry, demo user and dashboard.

The entry reads the demo battery sensors of config/configuration.yaml and
replays a stored week of real Agile prices, so the development instance shows
a working plan without an inverter or a connection to Octopus. Onboarding is
marked done with a demo user, and the Overview dashboard shows the plan card.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
import sys
from typing import Any

# Run as a script, the folder of this file is on sys.path rather than a package.
from demo_dashboard import write_dashboard
from demo_user import (
    DEMO_PASSWORD,
    DEMO_USERNAME,
    create_demo_user,
)
from homeassistant.config_entries import (
    STORAGE_KEY,
    STORAGE_VERSION,
    STORAGE_VERSION_MINOR,
    ConfigEntry,
)
from homeassistant.helpers.json import json_bytes

from custom_components.battery_optimizer.const import (
    CONF_CAPACITY_KWH,
    CONF_CHARGE_LIMIT_KW,
    CONF_DISCHARGE_LIMIT_KW,
    CONF_EFFICIENCY_PCT,
    CONF_EXPORT_LIMIT_KW,
    CONF_EXPORT_PRODUCT,
    CONF_EXPORT_TYPE,
    CONF_IMPORT_PRODUCT,
    CONF_INVERTER,
    CONF_LOAD_POWER_ENTITY,
    CONF_MAX_SOC_PCT,
    CONF_PRICE_SOURCE,
    CONF_REGION,
    CONF_RESERVE_SOC_PCT,
    CONF_SOC_ENTITY,
    DOMAIN,
    EXPORT_AGILE,
    INVERTER_SIMULATED,
    PRICE_SOURCE_DEMO,
)
from custom_components.battery_optimizer.tariffs.demo import (
    DEMO_EXPORT_PRODUCT,
    DEMO_IMPORT_PRODUCT,
)

DEMO_TITLE = "Battery Optimizer demo"

DEMO_DATA: dict[str, Any] = {
    CONF_PRICE_SOURCE: PRICE_SOURCE_DEMO,
    CONF_REGION: "C",
    CONF_IMPORT_PRODUCT: DEMO_IMPORT_PRODUCT,
    CONF_EXPORT_TYPE: EXPORT_AGILE,
    CONF_EXPORT_PRODUCT: DEMO_EXPORT_PRODUCT,
    CONF_SOC_ENTITY: "sensor.demo_battery_soc",
    CONF_LOAD_POWER_ENTITY: "sensor.demo_house_load",
    CONF_CAPACITY_KWH: 10.4,
    CONF_CHARGE_LIMIT_KW: 5.0,
    CONF_DISCHARGE_LIMIT_KW: 5.0,
    CONF_EFFICIENCY_PCT: 90.0,
    CONF_RESERVE_SOC_PCT: 10.0,
    CONF_MAX_SOC_PCT: 100.0,
    CONF_EXPORT_LIMIT_KW: 3.68,
    CONF_INVERTER: INVERTER_SIMULATED,
}


def write_entry(config_dir: Path) -> str:
    """Write the demo entry unless the configuration has one; return its title."""
    path = config_dir / ".storage" / STORAGE_KEY
    stored: dict[str, Any] = {
        "version": STORAGE_VERSION,
        "minor_version": STORAGE_VERSION_MINOR,
        "key": STORAGE_KEY,
        "data": {"entries": []},
    }
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = stored["data"]["entries"]
    for existing in entries:
        if existing["domain"] == DOMAIN:
            return str(existing["title"])
    kwargs: dict[str, Any] = {
        "domain": DOMAIN,
        "title": DEMO_TITLE,
        "data": DEMO_DATA,
        "options": {},
        "source": "user",
        "unique_id": DEMO_DATA[CONF_SOC_ENTITY],
        "version": 1,
        "minor_version": 1,
        "discovery_keys": {},
        "subentries_data": None,
    }
    accepted = inspect.signature(ConfigEntry.__init__).parameters
    entry = ConfigEntry(**{k: v for k, v in kwargs.items() if k in accepted})
    entries.append(json.loads(json_bytes(entry.as_dict())))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2), encoding="utf-8")
    print(f"Added the demo entry to {path}")
    return DEMO_TITLE


def main(config_dir: Path) -> None:
    """Add what the demo needs and is missing from config_dir."""
    title = write_entry(config_dir)
    if write_dashboard(config_dir, title, DEMO_DATA[CONF_SOC_ENTITY]):
        print("Wrote the demo dashboard")
    if create_demo_user(config_dir):
        print(f"Created the demo user '{DEMO_USERNAME}' (password '{DEMO_PASSWORD}')")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
