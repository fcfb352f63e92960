"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, with TLS and login.

Registered as a pytest plugin in conftest.py, so any test can ask for
`start_server`, `server_tls` and `certificate`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

USER, PASSWORD = "newswatch", "s3cret-Pa55word"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    authenticated: bool
    login: bytes | None


class Recorder:
    """An aiosmtpd handler that keeps every message and refuses the addresses in `refuse`."""

    def __init__(self, refuse: tuple[str, ...] = ()):
        self.refuse = set(refuse)
        self.received: list[Received] = []
        self.mechanisms: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        auth = session.auth_data
        self.received.append(Received(
            envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
            tls=server.transport.get_extra_info("ssl_object") is not None,
            authenticated=bool(session.authenticated), login=getattr(auth, "login", None),
        ))
        return "250 OK"

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        self.mechanisms.append(mechanism)
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        # handled=False on failure: aiosmtpd then answers "535 ... credentials invalid" itself
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newswatch test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def server_tls(certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def start_server():
    """Start aiosmtpd controllers on 127.0.0.1; every one is stopped after the test."""
    controllers: list[Controller] = []

    def start(handler: Recorder | None = None, **kwargs) -> tuple[Controller, Recorder]:
        handler = handler or Recorder()
        if kwargs.pop("with_auth", False):
            kwargs["authenticator"] = handler.authenticator
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
        controller.start()
        controllers.append(controller)
        return controller, handler

    yield start
    for controller in controllers:
        controller.stop()
