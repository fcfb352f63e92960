"""Sending the digest to a real SMTP server on 127.0.0.1: plain, STARTTLS + AUTH, implicit TLS."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from newswatch.digest.model import Digest, DigestStory
from newswatch.digest.render import build_message, render_html, render_text
from newswatch.digest.send import SmtpSettings, send_message
from newswatch.errors import PermanentDeliveryError, TransientDeliveryError

EVIL = 'CSTO <script>alert("x")</script> troops\r\nBcc: victim@example.com'
USER, PASSWORD = "newswatch", "s3cret-Pa55word"
RECIPIENTS = ["desk@example.org", "editor@example.org"]


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


def _free_port() -> int:
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
        controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), **kwargs)
        controller.start()
        controllers.append(controller)
        return controller, handler

    yield start
    for controller in controllers:
        controller.stop()


def _message(recipients=RECIPIENTS):
    story = DigestStory(
        title=EVIL, outlet="Riddle", link="https://example.com/a", source_label="example.com",
        published_at=dt.datetime(2022, 1, 12, tzinfo=dt.UTC),
        first_seen_at=dt.datetime(2022, 1, 13, tzinfo=dt.UTC),
        summary="Tokayev asked the CSTO for help.", mentions=3, entities=[("CSTO", 1)],
    )
    digest = Digest(day=dt.date(2022, 1, 13), timezone="Asia/Almaty", stories=[story],
                    generated_at=dt.datetime(2022, 1, 13, 2, 0, tzinfo=dt.UTC))
    return build_message(digest, render_text(digest), render_html(digest),
                         sender="newswatch@example.org", recipients=recipients)


def _settings(controller: Controller, **kwargs) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=controller.port, timeout=5.0, **kwargs)


def test_plain_smtp_delivers_one_multipart_copy_to_the_envelope_recipients(start_server):
    controller, handler = start_server()
    send_message(_message(), RECIPIENTS, _settings(controller, security="none"))

    [got] = handler.received
    assert got.mail_from == "newswatch@example.org"
    assert got.rcpt_tos == RECIPIENTS
    assert not got.tls and not got.authenticated
    parsed = email.message_from_bytes(got.content, policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["Subject"] == "newswatch digest for 2022-01-13: 1 new story"
    assert parsed["Bcc"] is None
    assert all("victim" not in str(value) for value in parsed.values())
    assert "Bcc: victim@example.com" in parsed.get_body(("plain",)).get_content()
    assert "&lt;script&gt;" in parsed.get_body(("html",)).get_content()


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_and_auth_deliver(start_server, server_tls, certificate, mechanism):
    other = {"PLAIN": "LOGIN", "LOGIN": "PLAIN"}[mechanism]
    controller, handler = start_server(
        tls_context=server_tls, require_starttls=True, auth_require_tls=True, with_auth=True,
        auth_exclude_mechanism=[other])
    settings = _settings(controller, security="starttls", username=USER, password=PASSWORD,
                         ca_file=certificate[0])
    send_message(_message(), RECIPIENTS, settings)

    [got] = handler.received
    assert got.tls and got.authenticated and got.login == USER.encode()
    assert handler.mechanisms == [mechanism]
    assert got.rcpt_tos == RECIPIENTS
    assert PASSWORD not in repr(settings)


def test_implicit_tls_delivers(start_server, server_tls, certificate):
    controller, handler = start_server(ssl_context=server_tls)
    send_message(_message(), ["desk@example.org"],
                 _settings(controller, security="ssl", ca_file=certificate[0]))

    [got] = handler.received
    assert got.tls and got.rcpt_tos == ["desk@example.org"]


def test_a_refused_login_is_permanent_and_never_shows_the_password(
        start_server, server_tls, certificate, caplog):
    caplog.set_level(logging.DEBUG, logger="newswatch")
    controller, handler = start_server(
        tls_context=server_tls, require_starttls=True, auth_require_tls=True, with_auth=True)
    wrong = "wrong-Pa55word"
    settings = _settings(controller, username=USER, password=wrong, ca_file=certificate[0])

    with pytest.raises(PermanentDeliveryError) as caught:
        send_message(_message(), RECIPIENTS, settings)

    assert caught.value.code == 535
    assert "refused the login" in str(caught.value)
    for text in (str(caught.value), repr(caught.value), caplog.text, repr(settings)):
        assert wrong not in text
    assert handler.received == []


def test_a_refused_recipient_is_named_and_nobody_gets_a_copy(start_server):
    controller, handler = start_server(Recorder(refuse=("gone@example.org",)))
    recipients = ["desk@example.org", "gone@example.org"]

    with pytest.raises(PermanentDeliveryError) as caught:
        send_message(_message(recipients), recipients, _settings(controller, security="none"))

    assert caught.value.recipient == "gone@example.org"
    assert "gone@example.org" in str(caught.value) and "550" in str(caught.value)
    assert "\n" not in str(caught.value)
    # all or nothing: a retry then cannot send desk@ a second copy
    assert handler.received == []


def test_a_server_that_is_down_is_transient_and_quick():
    settings = SmtpSettings(host="127.0.0.1", port=_free_port(), security="none", timeout=1.0)
    started = time.monotonic()
    with pytest.raises(TransientDeliveryError, match="127.0.0.1"):
        send_message(_message(), RECIPIENTS, settings)
    assert time.monotonic() - started < 2


def test_an_untrusted_certificate_is_permanent(start_server, server_tls):
    controller, handler = start_server(ssl_context=server_tls)
    with pytest.raises(PermanentDeliveryError, match="certificate"):
        send_message(_message(), RECIPIENTS, _settings(controller, security="ssl"))
    assert handler.received == []


def test_login_over_a_plain_connection_is_refused_before_connecting():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        settings = SmtpSettings(host="127.0.0.1", port=listener.getsockname()[1],
                                security="none", username=USER, password=PASSWORD)

        with pytest.raises(PermanentDeliveryError, match="without TLS") as caught:
            send_message(_message(), RECIPIENTS, settings)

        assert PASSWORD not in str(caught.value)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected, so the password went nowhere


def test_unknown_security_mode_is_refused():
    with pytest.raises(ValueError, match="security"):
        SmtpSettings(security="tls")
