"""Reminder, risk-alert, nudge and digest emails (issue #16), built with the standard library and sent over SMTP.

A reminder says only that there is something to log today, with the app's address and how to stop
reminders: no homework title, no score, no therapist's name, nothing about the client's care. An
email passes through mail servers the clinic does not run, and whoever sees the recipient's inbox
learns no more than that they use the app. A risk alert (a client's PHQ-9 item 9 above 0) tells
the therapist, or a safety contact when the client has none, only that a client needs attention
today and where the app is: no client name, no score, no answer. A therapist's nudge says only that
the therapist sent a reminder that there is something to log, from the clinic; a therapist's weekly
digest gives counts of clients needing attention (ops.scheduler.digest_counts, worked out when it is
sent) and no name or score.

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
# A risk alert (PHQ-9 item 9 above 0) names no client, score or answer: only that someone needs
# attention today, and where to look. The app shows who and why, to whoever may see it.
RISK_SUBJECT = "A client on your caseload needs attention"
RISK_BODY = (
    "A client on your caseload answered a questionnaire in a way that needs your attention today.\n\n"
    "Open the app: {public_url}\n\n"
    "This email holds no client details; the app shows who and why."
)
# The same to a safety contact (a supervisor or the admin), for a client with no current therapist.
SAFETY_CONTACT_SUBJECT = "A client with no current therapist needs attention"
SAFETY_CONTACT_BODY = (
    "A client with no current therapist answered a questionnaire in a way that needs your attention today.\n\n"
    "Open the app: {public_url}\n\n"
    "This email holds no client details; the app shows who and why."
)
# A therapist's one-off nudge (data_layer.reminders.send_nudge): no homework, score or name either.
NUDGE_SUBJECT = "A reminder from your clinic"
NUDGE_BODY = (
    "Your therapist sent you a reminder: you have something to log.\n\n"
    "Open the app: {public_url}\n\n"
    "This reminder comes from your clinic's homework app. "
    "To stop reminders, open Reminders in the app and turn them off."
)
# A therapist's weekly digest: counts of their clients needing attention, by the caseload page's flags.
DIGEST_SUBJECT = "Your weekly caseload digest"
DIGEST_BODY = (
    "Your weekly digest from the clinic's homework app.\n\n"
    "Your current clients: {clients}. Of them:\n"
    "- with an open risk flag: {risk}\n"
    "- homework set but no log for 7 days or more: {inactive}\n"
    "- reliable deterioration: {deteriorating}\n\n"
    "Open the app: {public_url}\n\n"
    "This email holds counts only; the app's Caseload page shows who. "
    "To stop this digest, turn it off on the Caseload page."
)
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class DigestCounts:
    """A therapist's current clients, and how many of them carry each flag of the caseload page."""

    clients: int
    risk: int
    inactive: int
    deteriorating: int


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
    # A risk alert to a safety contact (a supervisor or the admin) rather than the client's therapist.
    safety_contact: bool = False
    # A therapist's digest: its counts, worked out just before sending (the outbox stores no body).
    digest: DigestCounts | None = None


def subject_and_body(message: Message, public_url: str) -> tuple[str, str]:
    """Return the subject and body of `message` by its kind; raise Undeliverable for an unknown kind
    (or a digest without its counts)."""
    if message.kind == "therapist_digest":
        if message.digest is None:
            raise Undeliverable("a digest without its counts")
        counts = message.digest
        return DIGEST_SUBJECT, DIGEST_BODY.format(
            public_url=public_url,
            clients=counts.clients,
            risk=counts.risk,
            inactive=counts.inactive,
            deteriorating=counts.deteriorating,
        )
    if message.kind == "client_reminder":
        subject, body = SUBJECT, BODY
    elif message.kind == "nudge":
        subject, body = NUDGE_SUBJECT, NUDGE_BODY
    elif message.kind == "risk_alert" and message.safety_contact:
        subject, body = SAFETY_CONTACT_SUBJECT, SAFETY_CONTACT_BODY
    elif message.kind == "risk_alert":
        subject, body = RISK_SUBJECT, RISK_BODY
    else:
        raise Undeliverable(f"unknown kind of message: {message.kind}")
    return subject, body.format(public_url=public_url)


class Undeliverable(Exception):
    """This message can never be delivered as it stands (no address, or the server refused the
    recipient for good): the scheduler marks it failed at once instead of trying again."""


def build_email(message: Message, mail: settings.MailSettings) -> EmailMessage:
    """Return the EmailMessage for `message` under the mail settings `mail`.

    Raises Undeliverable when the recipient has no email address.
    """
    subject, body = subject_and_body(message, mail.public_url)
    if not (message.email or "").strip():
        raise Undeliverable("not sent: the account has no email address")
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = mail.sender
    email["To"] = (message.email or "").strip()
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=mail.sender.rpartition("@")[2] or None)
    # Tells mail servers and vacation responders that no person wrote it (RFC 3834).
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(body)
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
