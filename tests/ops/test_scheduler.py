"""The reminders' delivery engine (issue #16, ops/scheduler.py and ops/mailer.py) against a real SMTP
server (aiosmtpd on 127.0.0.1), on a fake clock: no test sleeps.

The world (tests/conftest.py): client_a in care with therapist_a, weekly "Thought record" 3 times a week
and no log; client_b in care, one homework done today and paused from today for 3 days.
"""

import email
import email.policy
import socket
import threading
from datetime import date, datetime, time, timedelta

import pytest
from aiosmtpd.controller import Controller

from data_layer import reminders
from ops import mailer, scheduler
from tests.conftest import add_pair, add_questionnaire

TODAY = date.today()
EVENING = datetime.combine(TODAY, time(18, 5))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts, or answers `refuse` (e.g. '451 ...')."""

    def __init__(self):
        self.received = []
        self.refuse = None

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        self.received.append(envelope)
        return "250 OK"

    def emails(self):
        return [email.message_from_bytes(envelope.content, policy=email.policy.default) for envelope in self.received]


@pytest.fixture(autouse=True)
def reminders_only(request):
    """The world's risk flag of client_b is raised as the test starts, and a new flag is emailed at the
    next tick (tests/ops/test_risk_alerts.py): here it is acknowledged, so these tests see reminders only."""
    if "world" in request.fixturenames:
        world, cur = request.getfixturevalue("world"), request.getfixturevalue("cur")
        cur.execute(
            "INSERT INTO risk_acknowledgements (risk_flag_id, therapist_id, note) VALUES (?, ?, 'seen')",
            [world.risk_flag_b, world.therapist_b.user_id],
        )


@pytest.fixture
def inbox(monkeypatch):
    handler = Inbox()
    port = handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("HOMEWORK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HOMEWORK_SMTP_PORT", str(port))
    monkeypatch.setenv("HOMEWORK_SMTP_SECURITY", "none")
    monkeypatch.setenv("HOMEWORK_MAIL_FROM", "clinic@example.org")
    monkeypatch.setenv("HOMEWORK_PUBLIC_URL", "https://homework.example.org")
    yield handler
    controller.stop()


def turn_on(cur, client, email_address, *, send_at=time(18, 0), days=(1, 2, 3, 4, 5, 6, 7)):
    cur.execute("UPDATE users SET email = ? WHERE id = ?", [email_address, client.user_id])
    reminders.set_reminders(cur, client, enabled=True, send_at=send_at, days=list(days))


def outbox(cur):
    return cur.execute(
        """SELECT recipient_id, status, attempts, next_attempt_at, last_error, sent_at, message_key
           FROM outbox ORDER BY id"""
    ).fetchall()


def log_homework(cur, client, assignment_id, status, times=1):
    for _ in range(times):
        cur.execute(
            "INSERT INTO homework_logs (assignment_id, client_id, log_date, status) VALUES (?, ?, ?, ?)",
            [assignment_id, client.user_id, TODAY, status],
        )


def test_one_email_per_client_per_day_saying_nothing_clinical(cur, world, inbox):
    turn_on(cur, world.client_a, "alice@example.org")
    add_questionnaire(cur, world.client_a, "PHQ-9", TODAY, 17)
    assert scheduler.tick(cur, EVENING, mailer.send_message) == {
        "queued": 1,
        "sent": 1,
        "retry": 0,
        "failed": 0,
        "not_sent": 0,
    }
    # The same minute again, later that evening, and near midnight: nothing more.
    for now in (EVENING, EVENING + timedelta(hours=2), datetime.combine(TODAY, time(23, 59))):
        assert scheduler.tick(cur, now, mailer.send_message)["queued"] == 0
    [sent] = inbox.emails()
    assert sent["Subject"] == "You have something to log today"
    assert sent["From"] == "clinic@example.org"
    assert sent["To"] == "alice@example.org"
    assert inbox.received[0].rcpt_tos == ["alice@example.org"]
    body = sent.get_body().get_content().replace("\r\n", "\n")
    assert body.strip() == (
        "You have something to log today.\n\nOpen the app: https://homework.example.org\n\n"
        "To stop these reminders, open Reminders in the app and turn them off."
    )
    for clinical in ("Thought record", "Tom Therapist", "Alice", "PHQ"):
        assert clinical not in sent.as_string()
    assert "17" not in body + sent["Subject"]  # the PHQ-9 total (a Message-ID may hold any digits)
    [(recipient, status, attempts, _, error, sent_at, key)] = outbox(cur)
    assert (recipient, status, attempts, error, sent_at) == (world.client_a.user_id, "sent", 1, None, EVENING)
    assert key == f"reminder:{world.client_a.user_id}:{TODAY.isoformat()}"
    # The next day is a new day.
    scheduler.tick(cur, EVENING + timedelta(days=1), mailer.send_message)
    assert len(inbox.received) == 2


def test_nothing_before_the_chosen_time_or_on_a_day_not_chosen(cur, world, inbox):
    turn_on(cur, world.client_a, "alice@example.org", send_at=time(19, 30))
    assert scheduler.tick(cur, EVENING, mailer.send_message)["queued"] == 0
    assert scheduler.tick(cur, datetime.combine(TODAY, time(19, 30)), mailer.send_message)["sent"] == 1
    other_days = [day for day in range(1, 8) if day != TODAY.isoweekday()]
    cur.execute("UPDATE outbox SET message_key = 'earlier'")  # as if today's had not been queued
    turn_on(cur, world.client_a, "alice@example.org", days=other_days)
    assert scheduler.tick(cur, EVENING, mailer.send_message)["queued"] == 0
    assert len(inbox.received) == 1


def test_a_refusing_server_leaves_the_message_queued_then_it_goes_exactly_once(cur, world, inbox):
    turn_on(cur, world.client_a, "alice@example.org")
    inbox.refuse = "451 Try again later"
    assert scheduler.tick(cur, EVENING, mailer.send_message)["retry"] == 1
    [(_, status, attempts, next_attempt_at, error, sent_at, _)] = outbox(cur)
    assert (status, attempts, next_attempt_at, sent_at) == ("queued", 1, EVENING + timedelta(minutes=1), None)
    assert "451" in error and "Try again later" in error
    # Not due again before its next attempt.
    assert scheduler.tick(cur, EVENING + timedelta(seconds=30), mailer.send_message)["retry"] == 0
    assert scheduler.tick(cur, EVENING + timedelta(minutes=1), mailer.send_message)["retry"] == 1
    [(_, status, attempts, next_attempt_at, *_)] = outbox(cur)
    assert (status, attempts, next_attempt_at) == ("queued", 2, EVENING + timedelta(minutes=3))
    inbox.refuse = None
    assert scheduler.tick(cur, EVENING + timedelta(minutes=2), mailer.send_message)["sent"] == 0
    assert scheduler.tick(cur, EVENING + timedelta(minutes=3), mailer.send_message)["sent"] == 1
    for minutes in (4, 10, 60):
        scheduler.tick(cur, EVENING + timedelta(minutes=minutes), mailer.send_message)
    assert len(inbox.received) == 1
    [(_, status, attempts, next_attempt_at, error, sent_at, _)] = outbox(cur)
    assert (status, attempts, next_attempt_at, sent_at) == ("sent", 3, None, EVENING + timedelta(minutes=3))
    assert "451" in error  # the last failure stays on record


def test_every_send_failure_and_unsent_message_is_audited_by_the_scheduler(cur, world, inbox, monkeypatch):
    turn_on(cur, world.client_a, "alice@example.org")
    inbox.refuse = "451 Try again later"
    scheduler.tick(cur, EVENING, mailer.send_message)
    inbox.refuse = None
    scheduler.tick(cur, EVENING + timedelta(minutes=1), mailer.send_message)
    monkeypatch.delenv("HOMEWORK_SMTP_HOST")  # no mail server: the next day's reminder is not sent
    scheduler.tick(cur, EVENING + timedelta(days=1), mailer.send_message)
    [(first_message,), (second_message,)] = cur.execute("SELECT id FROM outbox ORDER BY id").fetchall()
    rows = cur.execute(
        """SELECT actor_id, actor_role, action, record_id, outcome, detail FROM audit_log
           WHERE record_kind = 'outbox' ORDER BY id"""
    ).fetchall()
    assert [row[:5] for row in rows] == [
        (None, "scheduler", "send_message", first_message, "failed"),
        (None, "scheduler", "send_message", first_message, "ok"),
        (None, "scheduler", "skip_message", second_message, "ok"),
    ]
    failed, sent, skipped = (row[5] for row in rows)
    assert failed.startswith("client_reminder: queued: ") and "451" in failed and "next attempt" in failed
    assert sent == "client_reminder: sent"
    assert skipped == f"client_reminder: not_sent: {scheduler.NO_MAIL_SERVER}"


def test_a_server_refusing_for_an_hour_then_accepting_delivers_each_message_exactly_once(cur, world, inbox):
    turn_on(cur, world.client_a, "alice@example.org")
    reminders.send_nudge(cur, world.therapist_a, client_id=world.client_a.user_id, now=EVENING)
    inbox.refuse = "421 Service not available"
    for minute in range(61):  # every minute of an hour: each message tried at 0, 1, 3, 7, 15 and 31
        counts = scheduler.tick(cur, EVENING + timedelta(minutes=minute), mailer.send_message)
        assert counts["sent"] == counts["failed"] == 0
    assert inbox.received == []
    assert [row[1:3] for row in outbox(cur)] == [("queued", 6), ("queued", 6)]
    inbox.refuse = None
    for minute in range(61, 180):
        scheduler.tick(cur, EVENING + timedelta(minutes=minute), mailer.send_message)
    assert sorted(message.rcpt_tos[0] for message in inbox.received) == ["alice@example.org"] * 2
    subjects = sorted(email["Subject"] for email in inbox.emails())
    assert len(set(subjects)) == 2  # the reminder and the nudge, each once
    assert [(row[1], row[2], row[5]) for row in outbox(cur)] == [("sent", 7, EVENING + timedelta(minutes=63))] * 2


def test_a_stopped_server_leaves_the_message_queued_until_one_answers(cur, world, inbox, monkeypatch):
    turn_on(cur, world.client_a, "alice@example.org")
    monkeypatch.setenv("HOMEWORK_SMTP_PORT", str(free_port()))  # nothing listens there
    assert scheduler.tick(cur, EVENING, mailer.send_message)["retry"] == 1
    [(_, status, attempts, _, error, _, _)] = outbox(cur)
    assert (status, attempts) == ("queued", 1)
    assert "ConnectionRefusedError" in error
    assert inbox.received == []
    monkeypatch.setenv("HOMEWORK_SMTP_PORT", str(inbox.port))  # the server is back
    assert scheduler.tick(cur, EVENING + timedelta(minutes=1), mailer.send_message)["sent"] == 1
    scheduler.tick(cur, EVENING + timedelta(minutes=2), mailer.send_message)
    assert len(inbox.received) == 1
    assert outbox(cur)[0][1:3] == ("sent", 2)


def test_backoff_doubles_to_an_hour_and_ten_attempts_end_failed_and_kept(cur, world, monkeypatch):
    monkeypatch.setenv("HOMEWORK_SMTP_HOST", "smtp.example.org")
    turn_on(cur, world.client_a, "alice@example.org")
    calls = []

    def broken(message):
        calls.append(message)
        raise TimeoutError("timed out")

    now = EVENING
    waits = []
    for _ in range(scheduler.MAX_ATTEMPTS - 1):
        assert scheduler.tick(cur, now, broken)["retry"] == 1
        [(_, status, attempts, next_attempt_at, error, _, _)] = outbox(cur)
        waits.append(int((next_attempt_at - now).total_seconds() // 60))
        now = next_attempt_at
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert scheduler.tick(cur, now, broken)["failed"] == 1
    assert scheduler.tick(cur, now + timedelta(hours=1), broken) == dict.fromkeys(
        ("queued", "sent", "retry", "failed", "not_sent"), 0
    )
    [(_, status, attempts, next_attempt_at, error, sent_at, _)] = outbox(cur)
    assert (status, attempts, next_attempt_at, error, sent_at) == ("failed", 10, None, "TimeoutError: timed out", None)
    assert len(calls) == 10
    assert {call.email for call in calls} == {"alice@example.org"}


def test_without_a_mail_server_nothing_is_sent_and_the_reason_is_kept(cur, world, monkeypatch):
    monkeypatch.delenv("HOMEWORK_SMTP_HOST", raising=False)
    turn_on(cur, world.client_a, "alice@example.org")
    calls = []
    assert scheduler.tick(cur, EVENING, calls.append)["not_sent"] == 1
    assert calls == []
    [(_, status, attempts, _, error, sent_at, _)] = outbox(cur)
    assert (status, attempts, error, sent_at) == ("not_sent", 0, "not sent: no mail server configured", None)


def test_no_email_address_fails_at_once_with_a_clear_reason(cur, world, inbox):
    turn_on(cur, world.client_a, None)
    assert scheduler.tick(cur, EVENING, mailer.send_message)["failed"] == 1
    [(_, status, attempts, _, error, _, _)] = outbox(cur)
    assert (status, attempts) == ("failed", 1)
    assert error == "Undeliverable: not sent: the account has no email address"
    assert inbox.received == []


def questionnaires_not_due(cur, client):
    """Both questionnaires taken today: none is due this week (a due one is a reason for a reminder of its
    own, tests/ops/test_reminder_time_zones.py), so homework alone decides."""
    add_pair(cur, client, TODAY, 5, 5)


def test_a_met_weekly_target_gets_no_reminder(cur, world, inbox):
    turn_on(cur, world.client_a, "alice@example.org")
    questionnaires_not_due(cur, world.client_a)
    log_homework(cur, world.client_a, world.assignment_a, "done", times=2)
    log_homework(cur, world.client_a, world.assignment_a, "not_done")
    log_homework(cur, world.client_a, world.assignment_a, "partly")  # the third of 3 this week
    assert scheduler.tick(cur, EVENING, mailer.send_message)["queued"] == 0
    assert inbox.received == []


def test_a_target_not_yet_met_gets_one(cur, world, inbox):
    turn_on(cur, world.client_a, "alice@example.org")
    questionnaires_not_due(cur, world.client_a)
    log_homework(cur, world.client_a, world.assignment_a, "done", times=2)
    log_homework(cur, world.client_a, world.assignment_a, "not_done", times=3)
    assert scheduler.tick(cur, EVENING, mailer.send_message)["sent"] == 1


def test_no_reminder_without_weekly_homework_in_force(cur, world, inbox):
    turn_on(cur, world.client_a, "alice@example.org")
    questionnaires_not_due(cur, world.client_a)
    cur.execute("UPDATE assignments SET ends_on = ? WHERE id = ?", [TODAY - timedelta(days=1), world.assignment_a])
    assert scheduler.tick(cur, EVENING, mailer.send_message)["queued"] == 0


def test_a_paused_day_gets_no_reminder(cur, world, inbox):
    turn_on(cur, world.client_b, "bee@example.org")  # paused from today, for three days
    assert scheduler.tick(cur, EVENING, mailer.send_message)["queued"] == 0
    cur.execute("DELETE FROM paused_periods WHERE id = ?", [world.paused_period_b])
    assert scheduler.tick(cur, EVENING, mailer.send_message)["sent"] == 1
    assert [envelope.rcpt_tos for envelope in inbox.received] == [["bee@example.org"]]


def test_a_discharged_client_gets_no_reminder(cur, world, inbox):
    turn_on(cur, world.client_a, "alice@example.org")
    cur.execute("UPDATE caseload SET ended_on = ? WHERE client_id = ?", [TODAY, world.client_a.user_id])
    assert scheduler.tick(cur, EVENING, mailer.send_message)["queued"] == 0
    assert inbox.received == []


def test_a_deactivated_account_gets_no_reminder(cur, world, inbox):
    turn_on(cur, world.client_a, "alice@example.org")
    cur.execute("UPDATE users SET active = false WHERE id = ?", [world.client_a.user_id])
    assert scheduler.tick(cur, EVENING, mailer.send_message)["queued"] == 0


@pytest.mark.parametrize(
    "change,reason",
    [
        ("UPDATE users SET active = false WHERE id = $client", "not sent: the account is deactivated"),
        ("UPDATE caseload SET ended_on = $today WHERE client_id = $client", "not sent: no longer in care"),
        ("UPDATE reminder_preferences SET enabled = false WHERE client_id = $client", "not sent: reminders turned off"),
    ],
)
def test_a_queued_reminder_is_checked_again_before_it_goes(cur, world, inbox, change, reason):
    turn_on(cur, world.client_a, "alice@example.org")
    inbox.refuse = "451 Try again later"
    scheduler.tick(cur, EVENING, mailer.send_message)
    inbox.refuse = None
    parameters = {"client": world.client_a.user_id, "today": TODAY}
    cur.execute(change, {name: value for name, value in parameters.items() if f"${name}" in change})
    assert scheduler.tick(cur, EVENING + timedelta(minutes=1), mailer.send_message)["not_sent"] == 1
    [(_, status, attempts, next_attempt_at, error, sent_at, _)] = outbox(cur)
    assert (status, attempts, next_attempt_at, error, sent_at) == ("not_sent", 1, None, reason, None)
    assert inbox.received == []


def test_turning_reminders_off_cancels_the_queued_one_and_queues_no_more(cur, world, inbox):
    turn_on(cur, world.client_a, "alice@example.org")
    inbox.refuse = "451 Try again later"
    scheduler.tick(cur, EVENING, mailer.send_message)
    inbox.refuse = None
    reminders.set_reminders(cur, world.client_a, enabled=False, send_at=time(18), days=[1, 2, 3, 4, 5, 6, 7])
    [(_, status, _, _, error, _, _)] = outbox(cur)
    assert (status, error) == ("not_sent", "reminders turned off")
    for days in range(3):
        scheduler.tick(cur, EVENING + timedelta(days=days, minutes=1), mailer.send_message)
    assert len(outbox(cur)) == 1
    assert inbox.received == []


def test_a_reminder_whose_day_is_over_is_not_sent_late(cur, world, inbox):
    turn_on(cur, world.client_a, "alice@example.org", send_at=time(23, 58))
    inbox.refuse = "451 Try again later"
    scheduler.tick(cur, datetime.combine(TODAY, time(23, 58)), mailer.send_message)
    inbox.refuse = None
    next_morning = datetime.combine(TODAY + timedelta(days=1), time(0, 5))
    counts = scheduler.tick(cur, next_morning, mailer.send_message)
    assert (counts["queued"], counts["not_sent"], counts["sent"]) == (0, 1, 0)  # before 23:58 of the new day
    assert outbox(cur)[0][4] == "not sent: the day it was for is over"
    assert inbox.received == []


def test_the_admin_sees_every_message_and_how_it_ended(cur, world, inbox):
    turn_on(cur, world.client_a, "alice@example.org")
    scheduler.tick(cur, EVENING, mailer.send_message)
    [row] = reminders.list_outbox(cur, world.admin).to_dict("records")
    assert (row["recipient"], row["status"], row["kind"]) == ("Alice Client", "sent", "client_reminder")


def test_start_runs_one_thread_per_connection_until_stopped(conn, monkeypatch):
    monkeypatch.setattr(scheduler, "_seconds_to_next_minute", lambda: 3600)
    thread = scheduler.start(conn, send=lambda message: None)
    try:
        assert thread.daemon and thread.is_alive()
        assert scheduler.start(conn) is thread
    finally:
        scheduler.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_thread_survives_a_failing_tick_until_stopped(conn, monkeypatch):
    ticks = []
    ticked = threading.Semaphore(0)

    def failing_tick(cur, now, send):
        ticks.append(now)
        ticked.release()
        raise RuntimeError("boom")

    waits = iter([0, 0, 3600])
    monkeypatch.setattr(scheduler, "_seconds_to_next_minute", lambda: next(waits, 3600))
    stopping = threading.Event()
    runner = threading.Thread(target=scheduler.run_forever, args=(conn, None, stopping, failing_tick), daemon=True)
    runner.start()
    try:
        for _ in range(2):
            assert ticked.acquire(timeout=5)
        assert len(ticks) >= 2  # the first failure did not end the loop
        assert all(now.tzinfo is None for now in ticks)
    finally:
        stopping.set()
    runner.join(timeout=5)
    assert not runner.is_alive()


# ---------------------------------------------------------------- encryption and login


def self_signed_certificate(folder):
    """Write a certificate for 127.0.0.1 and its key into `folder`; return their paths."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now() - timedelta(days=1))
        .not_valid_after(datetime.now() + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = folder / "cert.pem", folder / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_path, key_path


def start_secure_server(folder, security):
    """Start an SMTP server on 127.0.0.1 that requires a login as clinic/mail-secret over TLS (STARTTLS or
    TLS from the start) with a self-signed certificate; return (controller, inbox, port, certificate, logins)."""
    import ssl

    from aiosmtpd.smtp import AuthResult

    certificate, key = self_signed_certificate(folder)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(certificate, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"clinic", b"mail-secret"))

    handler = Inbox()
    port = free_port()
    options = {"authenticator": authenticator, "auth_required": True}
    if security == "starttls":
        options.update(tls_context=server_context, require_starttls=True)
    else:
        # aiosmtpd counts only STARTTLS as TLS for AUTH; this connection is TLS from its first byte.
        options.update(ssl_context=server_context, auth_require_tls=False)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, handler, port, certificate, logins


def use_server(monkeypatch, port, security):
    for name, value in {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SECURITY": security,
        "USER": "clinic",
        "PASSWORD": "mail-secret",
    }.items():
        monkeypatch.setenv(f"HOMEWORK_SMTP_{name}", value)


@pytest.mark.parametrize("security", ["starttls", "tls"])
# aiosmtpd warns about auth_require_tls=False, which the TLS-from-the-start server needs (above).
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_the_mailer_encrypts_verifies_the_server_and_logs_in(cur, world, tmp_path, monkeypatch, security):
    import ssl

    controller, handler, port, certificate, logins = start_secure_server(tmp_path, security)
    use_server(monkeypatch, port, security)
    turn_on(cur, world.client_a, "alice@example.org")
    try:
        # Not trusted: the certificate is this test's own, not one of the system's authorities.
        assert scheduler.tick(cur, EVENING, mailer.send_message)["retry"] == 1
        assert "CERTIFICATE_VERIFY_FAILED" in outbox(cur)[0][4]
        assert logins == []  # the password never went to an unverified server
        trusting = ssl.create_default_context
        monkeypatch.setattr(ssl, "create_default_context", lambda *args, **kwargs: trusting(cafile=str(certificate)))
        assert scheduler.tick(cur, EVENING + timedelta(minutes=1), mailer.send_message)["sent"] == 1, outbox(cur)
    finally:
        controller.stop()
    assert logins == [(b"clinic", b"mail-secret")]
    assert [envelope.rcpt_tos for envelope in handler.received] == [["alice@example.org"]]


def test_an_unknown_security_setting_is_a_clear_error_kept_on_the_message(cur, world, monkeypatch):
    monkeypatch.setenv("HOMEWORK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HOMEWORK_SMTP_SECURITY", "ssl")
    turn_on(cur, world.client_a, "alice@example.org")
    assert scheduler.tick(cur, EVENING, mailer.send_message)["retry"] == 1
    assert outbox(cur)[0][4] == "ValueError: HOMEWORK_SMTP_SECURITY must be one of starttls, tls, none, not 'ssl'"
