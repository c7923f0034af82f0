"""Reminder emails (issue #16), built with the standard library and sent over SMTP.

A reminder says only that there is something to log today, with the app's address and how to stop
reminders: no homework title, no score, no therapist's name, nothing about the client's care. An
email passes through mail servers the clinic does not run, and whoever sees the recipient's inbox
learns no more than that they use the app.

The mail server is configured in settings (HOMEWORK_SMTP_*; README, "Configuration"). Without a
host nothing is sent: ops.scheduler records each due message as not sent instead of calling us.
"""

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from data_layer.core import settings

SUBJECT = "You have something to log today"
BODY = (
    "You have something to log today.\n\n"
    "Open the app: {public_url}\n\n"
    "To stop these reminders, open Reminders in the app and turn them off."
)
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Message:
    """One message of the outbox, as the scheduler hands it to `send`: which row, what kind, and
    the recipient's address (users.email; None when the account has none)."""

    id: int
    message_key: str
    kind: str
    recipient_id: int
    email: str | None
    due_at: datetime


class Undeliverable(Exception):
    """This message can never be delivered as it stands (no address, or the server refused the
    recipient for good): the scheduler marks it failed at once instead of trying again."""


def build_email(message: Message, mail: settings.MailSettings) -> EmailMessage:
    """Return the EmailMessage for `message` under the mail settings `mail`.

    Raises Undeliverable when the recipient has no email address.
    """
    if message.kind != "client_reminder":
        raise Undeliverable(f"unknown kind of message: {message.kind}")
    if not (message.email or "").strip():
        raise Undeliverable("not sent: the account has no email address")
    email = EmailMessage()
    email["Subject"] = SUBJECT
    email["From"] = mail.sender
    email["To"] = (message.email or "").strip()
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=mail.sender.rpartition("@")[2] or None)
    # Tells mail servers and vacation responders that no person wrote it (RFC 3834).
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(BODY.format(public_url=mail.public_url))
    return email


def send_message(message: Message) -> None:
    """Send `message` through the configured mail server; return when the server accepted it.

    Raises on any failure, for the scheduler to record and try again later: Undeliverable when
    it never can be (no address, the recipient refused for good), RuntimeError when no mail server
    is configured, smtplib's and socket errors otherwise. Waits at most 10 s for the server.
    """
    mail = settings.mail_settings()
    if mail.host is None:
        raise RuntimeError("not sent: no mail server configured")
    email = build_email(message, mail)
    server: smtplib.SMTP
    if mail.security == "tls":
        server = smtplib.SMTP_SSL(mail.host, mail.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(mail.host, mail.port, timeout=TIMEOUT_SECONDS)
    with server:
        if mail.security == "starttls":
            server.starttls(context=ssl.create_default_context())
        if mail.user:
            server.login(mail.user, mail.password or "")
        try:
            server.send_message(email)
        except smtplib.SMTPRecipientsRefused as refused:
            codes = [code for code, _ in refused.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise Undeliverable(f"the mail server refused the recipient: {codes}") from refused
            raise
