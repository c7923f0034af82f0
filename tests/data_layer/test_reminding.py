"""Does reminding help? (issue #16): reminded days followed by homework, and compliance before and
after reminders were turned on, on a tiny clinic with known answers (data_layer/reports/cohort.py)."""

from datetime import date, datetime, time, timedelta

import pytest

from clinical.analysis import before_after
from data_layer import reminders
from data_layer.core.access import AccessDenied
from data_layer.reports import cohort
from tests.conftest import add_assignment, add_homework_log, add_reminder, add_user, turn_on_reminders

TODAY = date.today()
THIS_MONDAY = TODAY - timedelta(days=TODAY.weekday())
# Turned on on the Wednesday 6 weeks ago: its 4 complete weeks after are over by now.
ON_WEEK = THIS_MONDAY - timedelta(weeks=6)


def in_care(cur, client, therapist, started):
    cur.execute(
        "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, ?)",
        [client.user_id, therapist.user_id, started],
    )


def at(day, hour):
    return datetime.combine(day, time(hour, 0))


@pytest.fixture
def reminded(cur, world):
    """client_a (therapist_a) reminded on 4 days, 3 of them followed by a log within 24 hours."""
    started = TODAY - timedelta(days=60)
    cur.execute("UPDATE caseload SET started_on = ? WHERE client_id = ?", [started, world.client_a.user_id])
    turn_on_reminders(cur, world.client_a, TODAY - timedelta(days=20))
    days = [TODAY - timedelta(days=back) for back in (12, 11, 10, 9)]
    for day in days:
        add_reminder(cur, world.client_a, at(day, 18))
    assignment = world.assignment_a
    add_homework_log(cur, assignment, world.client_a, at(days[0], 20))  # 2 hours later
    add_homework_log(cur, assignment, world.client_a, at(days[1], 19), status="partly")  # partly counts
    add_homework_log(cur, assignment, world.client_a, at(days[2] + timedelta(days=1), 9))  # the next morning: 15 hours
    add_homework_log(cur, assignment, world.client_a, at(days[3], 20), status="not_done")  # not done does not count
    add_homework_log(cur, assignment, world.client_a, at(days[3] + timedelta(days=1), 19))  # 25 hours: too late
    # Not reminded days: a reminder never sent, one still queued, one sent under 24 hours ago.
    add_reminder(cur, world.client_a, at(TODAY - timedelta(days=5), 18), status="not_sent")
    add_reminder(cur, world.client_a, at(TODAY - timedelta(days=4), 18), status="queued")
    add_reminder(cur, world.client_a, datetime.now() - timedelta(hours=2))
    return world


def test_three_of_four_reminded_days_followed_by_homework_within_24_hours(cur, reminded):
    result = cohort.reminder_follow_through(cur, reminded.therapist_a)
    assert result == cohort.FollowThrough(clients=1, reminded_days=4, followed_days=3)
    assert result.followed_days / result.reminded_days == 0.75


def test_a_client_who_turned_reminders_off_is_not_counted(cur, reminded):
    reminders.set_reminders(cur, reminded.client_a, enabled=False, send_at=time(18, 0), days=[1])
    assert cohort.reminder_follow_through(cur, reminded.therapist_a).reminded_days == 0
    assert cohort.compliance_around_reminders(cur, reminded.therapist_a).empty


def test_each_sees_only_their_own_clients_and_the_supervisor_no_identity(cur, reminded):
    world = reminded
    assert cohort.reminder_follow_through(cur, world.therapist_b) == cohort.FollowThrough(0, 0, 0)
    assert cohort.reminder_follow_through(cur, world.supervisor_b) == cohort.FollowThrough(0, 0, 0)
    # Team b's client has reminders followed too; team a's people never see them.
    turn_on_reminders(cur, world.client_b, TODAY - timedelta(days=20))
    add_reminder(cur, world.client_b, at(TODAY - timedelta(days=3), 18))
    add_homework_log(cur, world.assignment_b, world.client_b, at(TODAY - timedelta(days=3), 21))
    assert cohort.reminder_follow_through(cur, world.therapist_a) == cohort.FollowThrough(1, 4, 3)
    assert cohort.reminder_follow_through(cur, world.supervisor_a) == cohort.FollowThrough(1, 4, 3)
    assert cohort.reminder_follow_through(cur, world.therapist_b) == cohort.FollowThrough(1, 1, 1)
    for role in ("client_a", "admin"):
        with pytest.raises(AccessDenied):
            cohort.reminder_follow_through(cur, getattr(world, role))
        with pytest.raises(AccessDenied):
            cohort.compliance_around_reminders(cur, getattr(world, role))


def test_a_reminder_sent_after_the_episode_with_this_therapist_ended_is_not_theirs(cur, reminded):
    # client_a moved to therapist_b 10 days ago: therapist_a keeps the 2 reminders before, not those after.
    world = reminded
    moved = TODAY - timedelta(days=10)
    cur.execute(
        "UPDATE caseload SET ended_on = ? WHERE client_id = ? AND therapist_id = ?",
        [moved - timedelta(days=1), world.client_a.user_id, world.therapist_a.user_id],
    )
    in_care(cur, world.client_a, world.therapist_b, moved)
    assert cohort.reminder_follow_through(cur, world.therapist_a) == cohort.FollowThrough(1, 2, 2)
    assert cohort.reminder_follow_through(cur, world.therapist_b) == cohort.FollowThrough(1, 2, 1)


def weekly_logs(cur, assignment_id, client, monday, per_week):
    for day in range(per_week):
        add_homework_log(cur, assignment_id, client, at(monday + timedelta(days=day), 20))


@pytest.fixture
def before_and_after(cur, world):
    """Three clients of therapist_a with homework twice a week from 4 weeks before the week
    reminders came on: client_a 1 a week before and 2 after (50% -> 100%); a second 1 and 1
    (50% -> 50%); a third turned on 2 weeks ago (its weeks after are not over)."""
    therapist = world.therapist_a
    started = ON_WEEK - timedelta(weeks=5)
    cur.execute("UPDATE caseload SET started_on = ? WHERE client_id = ?", [started, world.client_a.user_id])
    cur.execute("DELETE FROM assignments WHERE id = ?", [world.assignment_a])
    second = add_user(cur, "client_c", "Carl Client", "client")
    recent = add_user(cur, "client_d", "Dora Client", "client")
    for client in (second, recent):
        in_care(cur, client, therapist, started)
    for client, (before, after) in ((world.client_a, (1, 2)), (second, (1, 1)), (recent, (1, 2))):
        assignment = add_assignment(cur, client, therapist, "Walk", ON_WEEK - timedelta(weeks=4))
        cur.execute("UPDATE assignments SET times_per_week = 2 WHERE id = ?", [assignment])
        for week in range(1, 5):
            weekly_logs(cur, assignment, client, ON_WEEK - timedelta(weeks=week), before)
            weekly_logs(cur, assignment, client, ON_WEEK + timedelta(weeks=week), after)
        # Nothing logged in the week they turned it on: that week belongs to neither window.
    turn_on_reminders(cur, world.client_a, ON_WEEK + timedelta(days=2))
    turn_on_reminders(cur, second, ON_WEEK + timedelta(days=2))
    turn_on_reminders(cur, recent, THIS_MONDAY - timedelta(weeks=2))
    return world


def test_compliance_in_the_4_weeks_before_and_after_turning_reminders_on(cur, before_and_after):
    compared = cohort.compliance_around_reminders(cur, before_and_after.therapist_a)
    assert list(compared.columns) == ["before", "after"]
    assert compared.to_dict("records") == [{"before": 0.5, "after": 0.5}, {"before": 0.5, "after": 1.0}]
    result = before_after(compared["before"], compared["after"])
    assert (result.n, result.mean_before, result.mean_after, result.mean_difference) == (2, 0.5, 0.75, 0.25)
    # Paired t interval of the differences 0.5 and 0: 0.25 +/- t(0.975, 1) x 0.25.
    assert result.difference_ci == pytest.approx((0.25 - 12.7062 * 0.25, 0.25 + 12.7062 * 0.25), abs=1e-3)


def test_the_supervisor_gets_the_same_comparison_and_the_other_team_nothing(cur, before_and_after):
    world = before_and_after
    assert len(cohort.compliance_around_reminders(cur, world.supervisor_a)) == 2
    assert cohort.compliance_around_reminders(cur, world.therapist_b).empty
    assert cohort.compliance_around_reminders(cur, world.supervisor_b).empty


def test_a_client_without_homework_before_reminders_is_left_out(cur, before_and_after):
    world = before_and_after
    cur.execute("DELETE FROM homework_logs WHERE client_id = ? AND log_date < ?", [world.client_a.user_id, ON_WEEK])
    cur.execute("UPDATE assignments SET starts_on = ? WHERE client_id = ?", [ON_WEEK, world.client_a.user_id])
    assert cohort.compliance_around_reminders(cur, world.therapist_a).to_dict("records") == [
        {"before": 0.5, "after": 0.5}
    ]


def test_one_client_gives_a_difference_without_an_interval():
    result = before_after([0.25], [0.75])
    assert (result.n, result.mean_difference) == (1, 0.5)
    assert all(value != value for value in result.difference_ci)  # NaN: no interval from one client
