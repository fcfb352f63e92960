"""Sending the digest to a real SMTP server on 127.0.0.1: plain, STARTTLS + AUTH, implicit TLS."""

from __future__ import annotations

import datetime as dt
import email
import logging
import socket
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller
from smtp_server import PASSWORD, USER, Recorder, free_port

from newswatch.digest.model import Digest, DigestStory
from newswatch.digest.render import build_message, render_html, render_text
from newswatch.digest.send import SmtpSettings, send_message
from newswatch.errors import PermanentDeliveryError, TransientDeliveryError

EVIL = 'CSTO <script>alert("x")</script> troops\r\nBcc: victim@example.com'
RECIPIENTS = ["desk@example.org", "editor@example.org"]


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
    assert parsed["Subject"] == "newswatch digest for 2022-01-13: 1 story"
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
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", timeout=1.0)
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
