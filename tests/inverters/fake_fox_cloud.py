"""A local stand-in for the Fox ESS Cloud Open API that enforces its rules."""

from __future__ import annotations

from dataclasses import dataclass, field
import hashlib
from typing import Any

from aiohttp import web

API_KEY = "0123-test-key"
SERIAL = "60BH37202BFA097"
WRITE_PATHS = frozenset({"/op/v1/device/scheduler/enable"})


@dataclass
class FakeClock:
    """Seconds that pass only when the code under test sleeps or a test says so."""

    seconds: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.seconds

    async def sleep(self, delay_s: float) -> None:
        self.slept.append(delay_s)
        self.seconds += delay_s


@dataclass
class FakeFoxCloud:
    """Checks signatures and spacing of calls; serves a scheduler and a SoC."""

    clock: FakeClock
    soc_pct: float = 55.0
    enable: int = 0
    groups: list[dict[str, Any]] = field(default_factory=list)
    errnos: list[int] = field(default_factory=list)
    replies: list[web.Response] = field(default_factory=list)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    last_call: float | None = None
    last_write: float | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{path:.*}", self.handle)
        return app

    def writes(self) -> list[dict[str, Any]]:
        return [body for path, body in self.requests if path in WRITE_PATHS]

    def _spacing_errno(self, path: str) -> int:
        now = self.clock.seconds
        errno = 0
        if self.last_call is not None and now - self.last_call < 1.0:
            self.violations.append(f"call {now - self.last_call:.2f} s after the last")
            errno = 40400
        if path in WRITE_PATHS:
            if self.last_write is not None and now - self.last_write < 2.0:
                self.violations.append(
                    f"write {now - self.last_write:.2f} s after the last"
                )
                errno = 40400
            self.last_write = now
        self.last_call = now
        return errno

    async def handle(self, request: web.Request) -> web.Response:
        path = request.path
        headers = request.headers
        body = await request.json()
        self.requests.append((path, body))
        # The separators are backslash-r-backslash-n as four characters.
        text = f"{path}\\r\\n{headers.get('token')}\\r\\n{headers.get('timestamp')}"
        if (
            headers.get("signature") != hashlib.md5(text.encode()).hexdigest()
            or headers.get("lang") != "en"
            or headers.get("Content-Type") != "application/json"
        ):
            return web.json_response({"errno": 40256, "msg": "illegal signature"})
        if headers.get("token") != API_KEY:
            return web.json_response({"errno": 41809, "msg": "invalid token"})
        errno = self._spacing_errno(path)
        if self.replies:
            return self.replies.pop(0)
        if self.errnos:
            errno = self.errnos.pop(0)
        if errno:
            return web.json_response({"errno": errno, "msg": "refused"})
        if body.get("sn", body.get("deviceSN")) != SERIAL:
            return web.json_response({"errno": 41930, "msg": "device not found"})
        return web.json_response(
            {"errno": 0, "msg": "success", "result": self._result(path, body)}
        )

    def _result(self, path: str, body: dict[str, Any]) -> Any:
        if path == "/op/v1/device/real/query":
            return [
                {
                    "deviceSN": SERIAL,
                    "datas": [{"variable": "SoC", "unit": "%", "value": self.soc_pct}],
                }
            ]
        if path == "/op/v1/device/scheduler/get":
            return {"enable": self.enable, "groups": self.groups, "properties": {}}
        self.enable, self.groups = 1, body["groups"]
        return None
