"""Sending the digest e-mail over SMTP (standard library only): TLS, login, clear errors.

    send_message(message, ["desk@example.org"],
                 SmtpSettings(host="smtp.example.org", username="newswatch", password=secret))

Either every recipient is accepted and the message goes out once, or nothing is sent and
a DeliveryError says why in one line: TransientDeliveryError when a later try may work,
PermanentDeliveryError when it will not. The password never appears in a log line, an
error message or a repr.
"""

from __future__ import annotations

import base64
import copy
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses

from newswatch.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError

log = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP server; `password` is left out of the repr."""

    host: str = "localhost"
    port: int = 587
    security: str = "starttls"      # "starttls", "ssl" (implicit TLS, usually 465) or "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    ca_file: str | None = None      # extra CA to trust (a private relay; tests)

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(
                f"unknown SMTP security {self.security!r}; use one of {', '.join(SECURITY_MODES)}"
            )

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


# prefect-email's SMTPType names -> our security modes
_BLOCK_SECURITY = {"SSL": "ssl", "STARTTLS": "starttls", "INSECURE": "none"}


def settings_from_block(block, *, timeout: float = 30.0, ca_file: str | None = None
                        ) -> SmtpSettings:
    """SmtpSettings from a prefect-email `EmailServerCredentials` block (duck-typed:
    smtp_server, smtp_type, smtp_port, username, password, verify).

    A block with `verify=False` is refused: a digest is not worth an unchecked server.
    """
    kind = getattr(block.smtp_type, "name", str(block.smtp_type)).upper()
    if kind not in _BLOCK_SECURITY:
        raise PermanentDeliveryError(f"unknown smtp_type {kind!r} in the e-mail block")
    if block.verify is False:
        raise PermanentDeliveryError(
            "the e-mail block has verify=False; newswatch checks the server's certificate"
            " (trust a private CA with NEWSWATCH_SMTP_CA_FILE instead)")
    server = getattr(block.smtp_server, "value", block.smtp_server)
    default_port = getattr(block.smtp_type, "value", None)
    password = block.password.get_secret_value() if block.password else None
    return SmtpSettings(
        host=str(server), port=int(block.smtp_port or default_port or 587),
        security=_BLOCK_SECURITY[kind], username=block.username or None,
        password=password or None, timeout=timeout, ca_file=ca_file,
    )


def send_message(message: EmailMessage, recipients: Sequence[str], settings: SmtpSettings) -> None:
    """Send one copy of `message` to `recipients` (the envelope; no Bcc header is added)."""
    if isinstance(recipients, str):
        raise TypeError("recipients must be a list of addresses, not one string")
    recipients = list(recipients)
    _check_recipients(recipients)
    sender = _envelope_sender(message)
    if settings.username and settings.security == "none":
        # Checked before connecting, so the password never crosses a plain connection.
        raise PermanentDeliveryError(
            f"refusing to log in to {settings.where} without TLS; "
            "set the SMTP security to 'starttls' or 'ssl'"
        )
    if settings.username and not settings.password:
        raise PermanentDeliveryError(
            f"an SMTP username is set for {settings.where} but no password "
            "(set NEWSWATCH_SMTP_PASSWORD)"
        )
    data = _flatten(message)
    context = _tls_context(settings) if settings.security != "none" else None

    step = "connect"
    smtp: smtplib.SMTP | None = None
    try:
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                    context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.security == "starttls":
            step = "STARTTLS"
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise PermanentDeliveryError(
                    f"{settings.where} does not offer STARTTLS; use security 'ssl' if it "
                    "expects TLS from the start, or 'none' for a trusted local relay"
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.username:
            step = "login"
            smtp.login(settings.username, settings.password or "")
        _transact(smtp, sender, recipients, data, settings)
    except DeliveryError as exc:
        log.warning("e-mail not sent: %s", exc)
        raise
    except (smtplib.SMTPException, OSError) as exc:
        error = _translate(exc, step, sender, settings)
        log.warning("e-mail not sent: %s", error)
        # The server's own words ride along as the cause unless they echo a secret.
        raise error from (None if _holds_secret(repr(exc), settings) else exc)
    finally:
        if smtp is not None:
            _close(smtp)
    log.info("e-mail %s sent to %d recipient(s) via %s",
             message.get("Message-ID", "(no Message-ID)"), len(recipients), settings.where)


def _transact(smtp: smtplib.SMTP, sender: str, recipients: list[str], data: bytes,
              settings: SmtpSettings) -> None:
    """MAIL, every RCPT, then DATA only if all recipients were accepted.

    smtplib.sendmail sends to whoever was accepted; a retry after a partial refusal would
    then duplicate the e-mail for them, so a refusal resets the transaction instead.
    """
    smtp.ehlo_or_helo_if_needed()
    code, reply = smtp.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for recipient in recipients:
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if refused:
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            pass  # the connection is closed next anyway
        raise _refused(refused, settings)
    smtp.data(data)


def _refused(refused: dict[str, tuple[int, bytes]], settings: SmtpSettings) -> DeliveryError:
    permanent = {r: cr for r, cr in refused.items() if cr[0] >= 500}
    chosen = permanent or refused
    first, (code, _) = next(iter(chosen.items()))
    details = "; ".join(f"{r} ({c} {_text(reply, settings)})" for r, (c, reply) in chosen.items())
    noun = "recipient" if len(chosen) == 1 else f"{len(chosen)} recipients"
    message = f"{settings.where} refused {noun} {details}; nothing was sent"
    cls = PermanentDeliveryError if permanent else TransientDeliveryError
    return cls(message, recipient=first, code=code)


def _translate(exc: BaseException, step: str, sender: str, settings: SmtpSettings) -> DeliveryError:
    """One readable DeliveryError for what smtplib, ssl or the socket raised."""
    where, timeout = settings.where, settings.timeout
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentDeliveryError(
            f"the TLS certificate of {where} is not trusted ({exc.verify_message}); "
            "for a private relay set ca_file to its CA"
        )
    if isinstance(exc, ssl.SSLError):
        return PermanentDeliveryError(
            f"TLS with {where} failed ({exc.reason or exc}); check the port and security mode"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        code, text = exc.smtp_code, _text(exc.smtp_error, settings)
        cls = TransientDeliveryError if 400 <= code < 500 else PermanentDeliveryError
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            what = f"refused the login of {settings.username!r}"
        elif isinstance(exc, smtplib.SMTPSenderRefused):
            what = f"refused the sender {sender}"
        else:
            what = f"answered {step}"
        return cls(f"{where} {what}: {code} {text}", code=code)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransientDeliveryError(f"{where} closed the connection during {step}")
    if isinstance(exc, smtplib.SMTPException):  # AUTH not offered, no common mechanism
        return PermanentDeliveryError(f"{where} during {step}: {_text(str(exc), settings)}")
    if isinstance(exc, TimeoutError):
        return TransientDeliveryError(f"{where} did not answer within {timeout:g}s ({step})")
    if isinstance(exc, ConnectionRefusedError):
        return TransientDeliveryError(f"nothing accepts connections at {where} (refused)")
    return TransientDeliveryError(f"cannot reach {where}: {exc.strerror or exc}")


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    # The system CAs plus ca_file: verification and hostname checks stay on.
    context = ssl.create_default_context()
    if settings.ca_file:
        try:
            context.load_verify_locations(cafile=settings.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise PermanentDeliveryError(
                f"cannot use the CA file {settings.ca_file}: {exc.strerror or exc}"
            ) from None
    return context


def _flatten(message: EmailMessage) -> bytes:
    # 7-bit transfer encodings (QP/base64 for non-ASCII text) suit every server, with or
    # without 8BITMIME; CRLF is what SMTP DATA expects.
    if message["Bcc"] is not None or message["Resent-Bcc"] is not None:
        message = copy.deepcopy(message)
        del message["Bcc"], message["Resent-Bcc"]
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n", cte_type="7bit"))


def _envelope_sender(message: EmailMessage) -> str:
    header = message["Sender"] or message["From"]
    addresses = [addr for _, addr in getaddresses([str(header or "")]) if addr]
    if not addresses:
        raise PermanentDeliveryError("the message has no From address to send it from")
    return addresses[0]


def _check_recipients(recipients: list[str]) -> None:
    if not recipients:
        raise PermanentDeliveryError("no recipients to send the e-mail to")
    for recipient in recipients:
        if not recipient.strip() or any(c in recipient for c in "\r\n<>, "):
            raise PermanentDeliveryError(f"not an e-mail address: {recipient!r}",
                                         recipient=recipient)


def _text(reply: bytes | str, settings: SmtpSettings) -> str:
    """A server reply as one line, with anything that looks like the password masked."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    text = " ".join(text.split())
    for secret in _secret_forms(settings):
        text = text.replace(secret, "***")
    return text


def _holds_secret(text: str, settings: SmtpSettings) -> bool:
    return any(secret in text for secret in _secret_forms(settings))


def _secret_forms(settings: SmtpSettings) -> list[str]:
    # The password as typed and as AUTH LOGIN / AUTH PLAIN put it on the wire.
    if not settings.password:
        return []
    plain = f"\0{settings.username or ''}\0{settings.password}"
    return [settings.password,
            base64.b64encode(settings.password.encode()).decode(),
            base64.b64encode(plain.encode()).decode()]


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
