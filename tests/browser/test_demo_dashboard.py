"""The demo as a person sees it: log in, open the dashboard, read the plan card.

Starts the development demo (scripts/demo_entry.py, then Home Assistant) on a
free localhost port with a copy of config/, drives Debian's Chromium with
Playwright, and saves a screenshot. Slow, so it runs only with
BATTERY_OPTIMIZER_BROWSER_TEST=1; it skips when Playwright or Chromium is
missing and cannot be installed.
"""

from __future__ import annotations

from collections.abc import Generator
import os
from pathlib import Path
import shutil
import socket
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.request

import pytest

from custom_components.battery_optimizer.card.serve import CARD_URL
from custom_components.battery_optimizer.const import DOMAIN

REPO = Path(__file__).resolve().parents[2]
ENABLE_VAR = "BATTERY_OPTIMIZER_BROWSER_TEST"
SCREENSHOT_VAR = "BATTERY_OPTIMIZER_SCREENSHOT"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"
CARD = "battery-optimizer-plan-card"
MODE_ENTITY = "sensor.battery_optimizer_demo_recommended_mode"
MODE_LABELS = {"Self use", "Force charge", "Force discharge", "Hold", "Feed-in first"}
TABLE_SLOTS = 8  # the card's default
# Generous: two shared cores, a cold Home Assistant and a cold browser.
HA_START_TIMEOUT_S = 240
INSTALL_TIMEOUT_S = 900
PAGE_TIMEOUT_MS = 120_000

pytestmark = pytest.mark.skipif(
    os.environ.get(ENABLE_VAR) != "1",
    reason=f"browser test: set {ENABLE_VAR}=1 to run it (needs Playwright and Chromium)",
)


def _ensure_chromium() -> None:
    """Install Debian's Chromium when missing and possible, else skip."""
    if Path(CHROMIUM).exists():
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM} is missing; install Debian's chromium package as root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
    ):
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
        if command[1] == "install" and done.returncode == 0:
            return
    pytest.skip(f"could not install chromium: {done.stderr.strip()[-300:]}")


# How long the first page after the login gets before it is reloaded.
FIRST_LOAD_TIMEOUT_MS = 30_000


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _demo_config(config_dir: Path, port: int) -> None:
    """A copy of config/ on its own port, prepared as scripts/develop does."""
    config_dir.mkdir()
    yaml = (REPO / "config" / "configuration.yaml").read_text(encoding="utf-8")
    yaml += f"\nhttp:\n  server_host: 127.0.0.1\n  server_port: {port}\n"
    (config_dir / "configuration.yaml").write_text(yaml, encoding="utf-8")
    shutil.copytree(
        REPO / "custom_components" / DOMAIN,
        config_dir / "custom_components" / DOMAIN,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo_entry.py"), str(config_dir)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
        capture_output=True,
        timeout=HA_START_TIMEOUT_S,
    )


def _log_tail(config_dir: Path) -> str:
    log = config_dir / "home-assistant.log"
    if not log.exists():
        return "(no log)"
    return "\n".join(
        log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
    )


def _wait_until_serving(
    url: str, process: subprocess.Popen[bytes], config_dir: Path
) -> None:
    deadline = time.monotonic() + HA_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"Home Assistant exited with {process.returncode}:\n{_log_tail(config_dir)}"
            )
        try:
            # The web server answers as soon as the frontend is up, which can be
            # before this integration has added its card to the page; a page
            # loaded in between would never get the card. Wait for the card.
            with urllib.request.urlopen(f"{url}/", timeout=5) as response:
                if CARD_URL.encode() in response.read():
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    pytest.fail(f"Home Assistant did not serve {url} in time:\n{_log_tail(config_dir)}")


@pytest.fixture
def demo_url(tmp_path: Path, socket_enabled: None) -> Generator[tuple[str, Path]]:
    """The demo running on a free port; yields its URL and configuration folder."""
    _ensure_chromium()
    port = _free_port()
    config_dir = tmp_path / "config"
    _demo_config(config_dir, port)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "homeassistant",
            "--config",
            str(config_dir),
            "--skip-pip",
        ],
        cwd=config_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process, config_dir)
        yield url, config_dir
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _screenshot_path(tmp_path: Path) -> Path:
    path = Path(os.environ.get(SCREENSHOT_VAR) or tmp_path / "demo-dashboard.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


CARD_JS = REPO / "custom_components" / DOMAIN / "www" / f"{CARD}.js"
# Only what the card reads of Home Assistant's frontend object.
FAKE_HASS = """(states) => ({
    states,
    entities: {},
    locale: {language: "en-GB", time_zone: "local"},
    config: {time_zone: "Europe/London"},
    language: "en",
})"""


def test_card_explains_a_missing_entity_an_empty_plan_and_bad_config() -> None:
    """The card's own edge cases, on a blank page with a stand-in hass object."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed"
    )
    _ensure_chromium()
    with sync_api.sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            page = browser.new_page()
            page.add_script_tag(path=str(CARD_JS))
            shown: dict[str, str] = page.evaluate(
                """() => {
                    const hass = """
                + FAKE_HASS
                + """;
                    const render = (config, states) => {
                        const card = document.createElement("battery-optimizer-plan-card");
                        document.body.appendChild(card);
                        card.setConfig(config);
                        card.hass = hass(states);
                        return card.shadowRoot.querySelector(".message").textContent;
                    };
                    let error = "";
                    try {
                        document.createElement("battery-optimizer-plan-card").setConfig({});
                    } catch (e) {
                        error = e.message;
                    }
                    return {
                        missing: render({entity: "sensor.nope_recommended_mode"}, {}),
                        empty: render({entity: "sensor.bo_recommended_mode"}, {
                            "sensor.bo_recommended_mode": {state: "self_use", attributes: {plan: []}},
                        }),
                        error,
                    };
                }"""
            )
        finally:
            browser.close()

    assert "sensor.nope_recommended_mode" in shown["missing"]
    assert shown["empty"].startswith("No plan yet")
    assert "entity" in shown["error"]


def test_dashboard_shows_the_plan(demo_url: tuple[str, Path], tmp_path: Path) -> None:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed"
    )
    url, config_dir = demo_url
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            # What the browser saw, to explain a card that does not appear.
            seen: list[str] = []
            page.on(
                "console", lambda msg: seen.append(f"console {msg.type}: {msg.text}")
            )
            page.on("requestfailed", lambda req: seen.append(f"failed: {req.url}"))
            page.on(
                "response",
                lambda res: seen.append(f"{res.status} {res.url}")
                if CARD in res.url
                else None,
            )
            page.goto(url)
            page.fill("input[name=username]", DEMO_USERNAME)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.keyboard.press("Enter")

            # The card marks its root with the plan's length once a plan is drawn.
            card = page.locator(f"{CARD} ha-card[data-slots]:not([data-slots='0'])")
            try:
                try:
                    card.wait_for(timeout=FIRST_LOAD_TIMEOUT_MS)
                except sync_api.Error:
                    # Now and then the first page after the login comes up without
                    # the dashboard's extra modules; a reload, as a user would do,
                    # brings them. A card missing after that is a real failure.
                    seen.append("reloaded")
                    page.reload()
                    card.wait_for()
            except sync_api.Error:
                page.screenshot(path=str(_screenshot_path(tmp_path)))
                loaded = page.evaluate(f"() => !!customElements.get('{CARD}')")
                raise AssertionError(
                    f"plan card not drawn on {page.url} (card script loaded: "
                    f"{loaded}); browser: {seen[-30:]}\n{_log_tail(config_dir)}"
                ) from None
            # Let the chart settle at its final width before the screenshot.
            page.wait_for_timeout(1000)
            screenshot = _screenshot_path(tmp_path)
            page.screenshot(path=str(screenshot), full_page=True)
            print(f"Screenshot: {screenshot}")

            state: dict[str, Any] = page.evaluate(
                """(entityId) => {
                    const hass = document.querySelector("home-assistant").hass;
                    const stateObj = hass.states[entityId];
                    return {
                        slots: stateObj.attributes.plan.length,
                        mode: hass.formatEntityState(stateObj),
                    };
                }""",
                MODE_ENTITY,
            )
            slots = int(card.get_attribute("data-slots") or 0)
            mode_text = page.locator(f"{CARD} .mode").inner_text().strip()
            bands = page.locator(f"{CARD} svg rect.band").count()
            rows = page.locator(f"{CARD} table.slots tbody tr").count()
            current_row = page.locator(f"{CARD} table.slots tbody tr.now").inner_text()
            landed = page.url
        finally:
            browser.close()

    assert landed.startswith(f"{url}/lovelace"), landed
    assert slots == state["slots"] > 0
    assert bands == slots, "one coloured band per planned half-hour"
    assert rows == min(TABLE_SLOTS, slots)
    assert mode_text == state["mode"]
    assert mode_text in MODE_LABELS
    assert mode_text in current_row
    assert screenshot.stat().st_size > 0
