"""`digest --send` as a real flow run, delivering to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from smtp_server import PASSWORD, USER

from newswatch.errors import DeliveryError
from newswatch.warehouse.connection import connect

pytestmark = pytest.mark.usefixtures("prefect_harness")


class _Inbox:
    def __init__(self, refuse: str | None = None):
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == self.refuse:
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    inbox = _Inbox(refuse="nobody@example.org")
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setenv("NEWSWATCH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSWATCH_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("NEWSWATCH_SMTP_SECURITY", "none")
    monkeypatch.setenv("NEWSWATCH_SMTP_TIMEOUT", "5")
    monkeypatch.setenv("NEWSWATCH_SMTP_RETRIES", "1")
    monkeypatch.setenv("NEWSWATCH_MAIL_FROM", "newswatch@example.org")
    yield inbox
    controller.stop()


@pytest.fixture
def seeded(seeds_copy, db_path):
    from newswatch.flows.ingest import ingest_seeds

    asyncio.run(ingest_seeds(directory=str(seeds_copy), db=str(db_path)))
    return db_path


def _digest(db, out, **kwargs):
    from newswatch.flows.digest import daily_digest

    return asyncio.run(daily_digest(db=str(db), out_dir=str(out), dry_run=False, send=True,
                                    **kwargs))


def _deliveries(db):
    with connect(db, read_only=True) as con:
        return con.execute("SELECT recipient, status, error IS NULL FROM digests"
                           " WHERE recipient IS NOT NULL ORDER BY created_at, recipient"
                           ).fetchall()


def test_each_recipient_gets_it_once_unless_forced(smtp, seeded, tmp_path):
    to = ["a@example.org", "b@example.org"]
    first = _digest(seeded, tmp_path / "d", to=to)
    assert first.sent == to
    assert sorted(r for rcpts, _ in smtp.messages for r in rcpts) == to
    message = email.message_from_bytes(smtp.messages[0][1], policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"].endswith(": 1 story")  # the five seeds: one story
    assert message["To"] == smtp.messages[0][0][0]

    again = _digest(seeded, tmp_path / "d", to=to)
    assert (again.sent, again.skipped) == ([], to)
    assert len(smtp.messages) == 2

    forced = _digest(seeded, tmp_path / "d", to=["a@example.org"], force=True)
    assert forced.sent == ["a@example.org"] and len(smtp.messages) == 3
    assert [r for r, status, _ in _deliveries(seeded)] == [
        "a@example.org", "b@example.org", "a@example.org"]


def test_a_refused_recipient_is_recorded_and_the_others_served(smtp, seeded, tmp_path):
    with pytest.raises(DeliveryError, match="nobody@example.org"):
        _digest(seeded, tmp_path / "d", to=["nobody@example.org", "a@example.org"])
    assert [rcpts for rcpts, _ in smtp.messages] == [["a@example.org"]]
    assert sorted(_deliveries(seeded)) == [("a@example.org", "sent", True),
                                           ("nobody@example.org", "failed", False)]


def test_a_server_that_is_down_fails_the_run_after_retries_and_keeps_the_files(
    seeded, tmp_path, monkeypatch
):
    port = _free_port()  # nothing listens there
    monkeypatch.setenv("NEWSWATCH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSWATCH_SMTP_PORT", str(port))
    monkeypatch.setenv("NEWSWATCH_SMTP_SECURITY", "none")
    monkeypatch.setenv("NEWSWATCH_SMTP_RETRIES", "1")
    monkeypatch.setenv("NEWSWATCH_SMTP_PASSWORD", "hunter2")
    with pytest.raises(DeliveryError) as failure:
        _digest(seeded, tmp_path / "d", to=["a@example.org"])
    assert "hunter2" not in str(failure.value)
    assert sorted(p.suffix for p in (tmp_path / "d").iterdir()) == [".eml", ".html", ".txt"]
    assert _deliveries(seeded) == [("a@example.org", "failed", False)]


def test_smtp_settings_can_come_from_a_prefect_email_block(
    seeded, tmp_path, monkeypatch, start_server, server_tls, certificate, caplog
):
    """prefect-email's EmailServerCredentials, saved on the Prefect API, with STARTTLS
    and login; the password is the block's and shows up nowhere."""
    from prefect_email import EmailServerCredentials

    controller, handler = start_server(
        tls_context=server_tls, require_starttls=True, auth_require_tls=True, with_auth=True)
    EmailServerCredentials(
        username=USER, password=PASSWORD, smtp_server="127.0.0.1", smtp_type="STARTTLS",
        smtp_port=controller.port,
    ).save("newswatch-smtp-test", overwrite=True)
    monkeypatch.setenv("NEWSWATCH_SMTP_BLOCK", "newswatch-smtp-test")
    monkeypatch.setenv("NEWSWATCH_SMTP_HOST", "192.0.2.1")  # the block wins over these
    monkeypatch.setenv("NEWSWATCH_SMTP_CA_FILE", certificate[0])
    monkeypatch.setenv("NEWSWATCH_SMTP_TIMEOUT", "5")
    monkeypatch.setenv("NEWSWATCH_MAIL_FROM", "newswatch@example.org")
    caplog.set_level("DEBUG")

    result = _digest(seeded, tmp_path / "d", to=["desk@example.org"])
    assert result.sent == ["desk@example.org"]
    [got] = handler.received
    assert got.tls and got.authenticated and got.login == USER.encode()
    assert got.rcpt_tos == ["desk@example.org"]
    parsed = email.message_from_bytes(got.content, policy=policy.default)
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert PASSWORD not in caplog.text
    assert not [p for p in (tmp_path / "d").iterdir() if PASSWORD in p.read_text()]


def test_a_missing_block_is_a_clear_failure_after_the_files_are_written(
    seeded, tmp_path, monkeypatch
):
    monkeypatch.setenv("NEWSWATCH_SMTP_BLOCK", "no-such-block")
    with pytest.raises(DeliveryError, match="no EmailServerCredentials block named"):
        _digest(seeded, tmp_path / "d", to=["a@example.org"])
    assert sorted(p.suffix for p in (tmp_path / "d").iterdir()) == [".eml", ".html", ".txt"]
