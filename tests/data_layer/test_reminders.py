"""A client's own reminder settings, and the outbox the admin watches (issue #16, data_layer/reminders.py)."""

from datetime import datetime, time

import pytest

from data_layer import reminders
from data_layer.core import db
from data_layer.core.access import AccessDenied
from data_layer.core.validation import InvalidInput


def audit_actions(cur, action):
    return cur.execute(
        "SELECT actor_id, client_id, outcome, detail FROM audit_log WHERE action = ? ORDER BY id", [action]
    ).fetchall()


def queue(cur, client, day="2026-11-30", status="queued"):
    (message_id,) = cur.execute(
        """INSERT INTO outbox (message_key, recipient_id, kind, due_at, status)
           VALUES (?, ?, 'client_reminder', CAST(? AS DATE) + TIME '18:00', ?) RETURNING id""",
        [f"reminder:{client.user_id}:{day}", client.user_id, day, status],
    ).fetchone()
    return message_id


def test_a_client_who_never_chose_gets_the_defaults_off(cur, world):
    settings = reminders.reminder_settings(cur, world.client_a)
    assert settings == reminders.ReminderSettings(enabled=False, send_at=time(18, 0), days=(1, 2, 3, 4, 5, 6, 7))


def test_a_client_saves_and_reads_back_their_own_settings_audited(cur, world):
    saved = reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(7, 30), days=[5, 1, 3, 1])
    assert saved == reminders.ReminderSettings(enabled=True, send_at=time(7, 30), days=(1, 3, 5))
    assert reminders.reminder_settings(cur, world.client_a) == saved
    # The other client's settings are untouched.
    assert reminders.reminder_settings(cur, world.client_b) == reminders.DEFAULT_SETTINGS
    me = world.client_a.user_id
    assert audit_actions(cur, "set_reminders") == [(me, me, "ok", "on")]
    changed = reminders.set_reminders(cur, world.client_a, enabled=False, send_at=time(9, 0), days=[])
    assert reminders.reminder_settings(cur, world.client_a) == changed == reminders.ReminderSettings(False, time(9), ())


@pytest.mark.parametrize(
    "enabled,send_at,days,field,message",
    [
        (True, time(18), [], "days", "Choose at least one day."),
        (True, None, [1], "send_at", "Choose a time."),
        (False, None, [], "send_at", "Choose a time."),
        (True, time(18), [0, 1], "days", "Days are 1 (Monday) to 7 (Sunday)."),
        (True, time(18), [8], "days", "Days are 1 (Monday) to 7 (Sunday)."),
        (True, time(18), ["1"], "days", "Days are 1 (Monday) to 7 (Sunday)."),
        (True, "18:00", [1], "send_at", "Choose a time."),
        ("yes", time(18), [1], "enabled", "Choose on or off."),
    ],
)
def test_bad_settings_are_refused_field_by_field_and_nothing_is_saved(
    cur, world, enabled, send_at, days, field, message
):
    with pytest.raises(InvalidInput) as refused:
        reminders.set_reminders(cur, world.client_a, enabled=enabled, send_at=send_at, days=days)
    assert refused.value.errors[field] == message
    assert reminders.reminder_settings(cur, world.client_a) == reminders.DEFAULT_SETTINGS


def test_no_time_and_no_day_are_both_named(cur, world):
    with pytest.raises(InvalidInput) as refused:
        reminders.set_reminders(cur, world.client_a, enabled=True, send_at=None, days=[])
    assert refused.value.errors == {"send_at": "Choose a time.", "days": "Choose at least one day."}


def test_the_table_refuses_bad_days_even_without_the_data_layer(cur, world):
    for days in ("[0]", "[8]", "[1, 1]", "[CAST(NULL AS INTEGER)]"):
        with pytest.raises(db.CONSTRAINT_ERRORS):
            cur.execute(
                f"INSERT INTO reminder_preferences (client_id, days) VALUES (?, {days})", [world.client_a.user_id]
            )
    with pytest.raises(db.CONSTRAINT_ERRORS):
        cur.execute(
            "INSERT INTO reminder_preferences (client_id, enabled, days) VALUES (?, true, CAST([] AS INTEGER[]))",
            [world.client_a.user_id],
        )


@pytest.mark.parametrize("role", ["therapist_a", "supervisor_a", "admin"])
def test_only_a_client_sets_or_reads_reminders_and_refusals_are_audited(cur, world, role):
    principal = getattr(world, role)
    with pytest.raises(AccessDenied):
        reminders.set_reminders(cur, principal, enabled=True, send_at=time(18), days=[1])
    with pytest.raises(AccessDenied):
        reminders.reminder_settings(cur, principal)
    assert [row[2] for row in audit_actions(cur, "set_reminders")] == ["denied"]
    assert cur.execute("SELECT count(*) FROM reminder_preferences").fetchone() == (0,)


def test_a_client_can_only_ever_set_their_own(cur, world):
    # There is no client to name: a client's call writes the caller's own row, nobody else's.
    import inspect

    assert "client_id" not in inspect.signature(reminders.set_reminders).parameters
    reminders.set_reminders(cur, world.client_b, enabled=True, send_at=time(18), days=[1])
    with pytest.raises(TypeError):
        reminders.set_reminders(
            cur, world.client_b, client_id=world.client_a.user_id, enabled=True, send_at=time(18), days=[1]
        )
    assert cur.execute("SELECT client_id FROM reminder_preferences").fetchall() == [(world.client_b.user_id,)]


def test_turning_reminders_off_cancels_only_own_queued_reminders(cur, world):
    reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(18), days=[1])
    mine = queue(cur, world.client_a)
    sent = queue(cur, world.client_a, day="2026-11-23", status="sent")
    theirs = queue(cur, world.client_b)
    reminders.set_reminders(cur, world.client_a, enabled=False, send_at=time(18), days=[1])
    rows = {row[0]: row[1:] for row in cur.execute("SELECT id, status, last_error FROM outbox").fetchall()}
    assert rows[mine] == ("not_sent", "reminders turned off")
    assert rows[sent] == ("sent", None)
    assert rows[theirs] == ("queued", None)
    assert audit_actions(cur, "set_reminders")[-1][3] == "off; 1 queued cancelled"


def test_the_admin_lists_the_outbox_with_names_and_filters(cur, world):
    first = queue(cur, world.client_a, day="2026-11-29")
    second = queue(cur, world.client_b, day="2026-11-30", status="sent")
    outbox = reminders.list_outbox(cur, world.admin)
    assert list(outbox.columns) == [
        "id",
        "kind",
        "recipient",
        "due_at",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
    ]
    assert list(outbox["id"]) == [second, first]  # latest due first
    assert list(outbox["recipient"]) == ["Foreign Client Bee", "Alice Client"]
    assert list(reminders.list_outbox(cur, world.admin, status="queued")["id"]) == [first]
    assert list(reminders.list_outbox(cur, world.admin, since=datetime(2026, 11, 30))["id"]) == [second]
    assert reminders.list_outbox(cur, world.admin, kind="client_reminder").shape[0] == 2
    assert reminders.list_outbox(cur, world.admin, kind="other").empty
    assert [row[2] for row in audit_actions(cur, "view_outbox")] == ["ok"] * 5


@pytest.mark.parametrize("role", ["therapist_a", "supervisor_a", "client_a"])
def test_no_one_but_the_admin_lists_the_outbox(cur, world, role):
    with pytest.raises(AccessDenied):
        reminders.list_outbox(cur, getattr(world, role))
    assert [row[2] for row in audit_actions(cur, "list_outbox")] == ["denied"]


def test_a_client_reads_only_their_own_email(cur, world):
    cur.execute("UPDATE users SET email = 'a@example.org' WHERE id = ?", [world.client_a.user_id])
    assert reminders.my_email(cur, world.client_a) == "a@example.org"
    assert reminders.my_email(cur, world.client_b) is None
    for principal in (world.therapist_a, world.admin):
        with pytest.raises(AccessDenied):
            reminders.my_email(cur, principal)


def test_a_therapist_sees_their_clients_reminders_of_the_last_14_days_audited(cur, world):
    today = datetime.now().date()
    queue(cur, world.client_a, day=str(today))
    queue(cur, world.client_a, day="2020-01-06")  # long ago: not shown
    queue(cur, world.client_b, day=str(today))
    shown = reminders.list_client_reminders(cur, world.therapist_a, client_id=world.client_a.user_id)
    assert list(shown.columns) == ["kind", "due_at", "status", "sent_at", "last_error"]
    assert len(shown) == 1
    reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(8, 15), days=[1, 3])
    settings = reminders.client_reminder_settings(cur, world.therapist_a, client_id=world.client_a.user_id)
    assert settings == reminders.ReminderSettings(True, time(8, 15), (1, 3))
    me, client = world.therapist_a.user_id, world.client_a.user_id
    assert audit_actions(cur, "view_reminders") == [(me, client, "ok", None)] * 2


@pytest.mark.parametrize("role", ["therapist_b", "client_a", "supervisor_a", "admin"])
def test_no_one_else_sees_a_clients_reminders(cur, world, role):
    queue(cur, world.client_a, day=str(datetime.now().date()))
    principal = getattr(world, role)
    for read in (reminders.list_client_reminders, reminders.client_reminder_settings):
        with pytest.raises(AccessDenied):
            read(cur, principal, client_id=world.client_a.user_id)
    assert {row[2] for row in audit_actions(cur, "view_reminders")} <= {"denied"}


def history(cur, client):
    return cur.execute(
        "SELECT enabled, changed_by FROM reminder_history WHERE client_id = ? ORDER BY id", [client.user_id]
    ).fetchall()


def test_turning_reminders_on_and_off_is_kept_as_history_but_other_changes_are_not(cur, world):
    me = world.client_a.user_id
    reminders.set_reminders(cur, world.client_a, enabled=False, send_at=time(9, 0), days=[1])  # off was the default
    assert history(cur, world.client_a) == []
    reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(9, 0), days=[1])
    reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(20, 0), days=[1, 2])  # still on
    reminders.set_reminders(cur, world.client_a, enabled=False, send_at=time(20, 0), days=[1, 2])
    reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(20, 0), days=[1, 2])
    assert history(cur, world.client_a) == [(True, me), (False, me), (True, me)]
    assert history(cur, world.client_b) == []
    # Each change is written with the choice it records: the history's last row is the choice in force.
    assert cur.execute(
        """SELECT h.changed_at <= p.updated_at FROM reminder_history h JOIN reminder_preferences p USING (client_id)
           WHERE h.client_id = ? ORDER BY h.id DESC LIMIT 1""",
        [me],
    ).fetchone() == (True,)


def test_a_client_chooses_their_own_time_zone_and_the_therapist_sees_it(cur, world):
    assert reminders.reminder_settings(cur, world.client_a).time_zone is None  # the clinic's
    saved = reminders.set_reminders(
        cur, world.client_a, enabled=True, send_at=time(18), days=[1], time_zone="America/New_York"
    )
    assert saved.time_zone == "America/New_York"
    assert reminders.reminder_settings(cur, world.client_a) == saved
    shown = reminders.client_reminder_settings(cur, world.therapist_a, client_id=world.client_a.user_id)
    assert shown.time_zone == "America/New_York"
    # Back to the clinic's zone.
    reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(18), days=[1], time_zone=None)
    assert reminders.reminder_settings(cur, world.client_a).time_zone is None
    me = world.client_a.user_id
    assert audit_actions(cur, "set_reminders") == [(me, me, "ok", "on")] * 2


@pytest.mark.parametrize("time_zone", ["Mars/Olympus_Mons", "europe/london", "localtime", "", "UTC+1", 0])
def test_a_name_that_is_no_time_zone_is_refused_at_its_field(cur, world, time_zone):
    reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(7), days=[2], time_zone="Europe/Paris")
    with pytest.raises(InvalidInput) as refused:
        reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(18), days=[1], time_zone=time_zone)
    assert refused.value.errors == {"time_zone": "Choose a time zone from the list, e.g. Europe/London."}
    assert reminders.reminder_settings(cur, world.client_a) == reminders.ReminderSettings(
        True, time(7), (2,), "Europe/Paris"
    )
