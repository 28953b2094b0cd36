"""A real HTTPS request by host name through Home Assistant's shared session.

Every price request of a real entry goes this way: Home Assistant's resolver
(aiodns and pycares), its TLS context and its connector. A resolver that cannot
work with the installed pycares, or a broken TLS setup, fails here instead of
showing a user "An unexpected error occurred" in the config flow.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
import contextlib
from datetime import UTC, datetime, timedelta
import ipaddress
from pathlib import Path
import ssl
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import homeassistant.util.ssl as ssl_util
import pytest

from custom_components.battery_optimizer.tariffs.octopus import OctopusClient

HOST = "localhost"
PRODUCTS = {
    "count": 1,
    "next": None,
    "results": [
        {
            "code": "AGILE-24-10-01",
            "direction": "IMPORT",
            "brand": "OCTOPUS_ENERGY",
            "is_variable": True,
            "display_name": "Agile Octopus",
            "available_from": "2024-10-01T00:00:00Z",
            "available_to": None,
        }
    ],
}


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
async def octopus_over_tls(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    socket_enabled: None,
) -> AsyncGenerator[tuple[str, list[str]]]:
    """An HTTPS server on 127.0.0.1 that Home Assistant's TLS context trusts."""
    # Newer test harnesses swap Home Assistant's resolver for aiohttp's own;
    # the real one is the point here.
    with contextlib.suppress(pytest.FixtureLookupError):
        request.getfixturevalue("disable_mock_zeroconf_resolver")
    cert_path, key_path = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    # Home Assistant verifies against its own CA bundle: add the test's one to
    # the context its session is made with, and nothing else changes.
    original: Callable[..., ssl.SSLContext] = ssl_util.client_context

    def trusting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = original(*args, **kwargs)
        context.load_verify_locations(cafile=str(cert_path))
        return context

    monkeypatch.setattr(ssl_util, "client_context", trusting)

    hosts: list[str] = []

    async def products(request: web.Request) -> web.Response:
        hosts.append(request.host)
        return web.json_response(PRODUCTS)

    app = web.Application()
    app.router.add_get("/v1/products/", products)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    port = runner.addresses[0][1]
    yield f"https://{HOST}:{port}/v1", hosts
    await runner.cleanup()


async def test_https_by_host_name_through_the_shared_session(
    hass: HomeAssistant, octopus_over_tls: tuple[str, list[str]]
) -> None:
    base_url, hosts = octopus_over_tls
    client = OctopusClient(async_get_clientsession(hass), base_url)

    products = await client.async_get_agile_products()

    assert products.import_code == "AGILE-24-10-01"
    assert products.export_code is None
    assert hosts == [base_url.removeprefix("https://").removesuffix("/v1")]
