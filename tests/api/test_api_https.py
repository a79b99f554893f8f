"""Optional HTTPS: the API serves TLS with the configured certificate and key (a self-signed one here)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from api_solo_node import SoloNode
from config import ApiSection, ConfigError
from fedow_node.api import build_app, start_server, tls_context


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as a venue would make with openssl."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fedow-node test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "api.crt", folder / "api.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


def test_the_api_answers_over_https_with_the_configured_certificate(tmp_path):
    cert_file, key_file = self_signed(tmp_path)
    config = ApiSection(bind="127.0.0.1:0", tls_cert=cert_file, tls_key=key_file)

    async def scenario() -> None:
        node = SoloNode(tmp_path / "node")
        runner = await start_server(build_app(node, config), config.bind, tls_context(config))
        port = runner.addresses[0][1]
        trusted = ssl.create_default_context(cafile=str(cert_file))
        try:
            async with asyncio.timeout(30), aiohttp.ClientSession() as session:
                async with session.get(f"https://127.0.0.1:{port}/v1/status", ssl=trusted) as response:
                    assert response.status == 200 and (await response.json())["height"] == 0
                with pytest.raises(aiohttp.ClientError):  # plain HTTP is not served on an HTTPS port
                    async with session.get(f"http://127.0.0.1:{port}/v1/status") as response:
                        await response.read()
                with pytest.raises(aiohttp.ClientConnectorCertificateError):  # an unknown CA is refused
                    async with session.get(f"https://127.0.0.1:{port}/v1/status") as response:
                        await response.read()
        finally:
            await runner.cleanup()
            node.close()
    asyncio.run(scenario())


def test_https_needs_both_files_and_readable_ones(tmp_path):
    cert_file, key_file = self_signed(tmp_path)
    with pytest.raises(ConfigError, match="both"):
        ApiSection(tls_cert=cert_file)
    (tmp_path / "empty.key").write_text("")
    with pytest.raises(ConfigError, match="cannot load"):
        tls_context(ApiSection(tls_cert=cert_file, tls_key=tmp_path / "empty.key"))
    assert tls_context(ApiSection()) is None
