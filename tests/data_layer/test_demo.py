"""The demo clinic: deterministic, loads into a real database, and carries its built-in effect."""

from datetime import date, datetime, timedelta

import bcrypt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from clinical.episodes import classify_episodes
from clinical.homework import CATEGORIES, CREDIT
from clinical.outcomes import outcome_rates
from data_layer import homework, users
from data_layer.core import db
from data_layer.core.access import LOGIN, Principal
from data_layer.reports import cohort, metrics
from ops import demo
from ops.demo.__main__ import main as demo_main

# A fixed day and moment of the build (a Thursday morning), so that the tests do not
# depend on when they run.
TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 9, 30)

# Columns holding a date or a timestamp, per table: none may be after today.
DATED_COLUMNS = {
    "users": ["sessions_valid_after", "created_at"],
    "caseload": ["started_on", "ended_on"],
    "discharges": ["recorded_at"],
    "supervision": ["started_on"],
    "assignments": ["starts_on", "ends_on", "due_on", "created_at"],
    "homework_logs": ["log_date", "created_at"],
    "paused_periods": ["starts_on", "ends_on", "created_at"],
    "mood_logs": ["log_date", "created_at"],
    "questionnaires": ["taken_on", "created_at"],
    "therapy_sessions": ["session_date", "created_at"],
    "risk_flags": ["raised_at"],
    "reminder_preferences": ["updated_at"],
    "reminder_history": ["changed_at"],
    "outbox": ["due_at", "sent_at", "created_at"],
}
TIMESTAMP_COLUMNS = {
    "users": ["sessions_valid_after", "created_at", "locked_until"],
    "discharges": ["recorded_at"],
    "assignments": ["created_at"],
    "homework_logs": ["created_at"],
    "paused_periods": ["created_at"],
    "mood_logs": ["created_at"],
    "questionnaires": ["created_at"],
    "therapy_sessions": ["created_at"],
    "risk_flags": ["raised_at"],
    "reminder_preferences": ["updated_at"],
    "reminder_history": ["changed_at"],
    "outbox": ["due_at", "sent_at", "created_at"],
}


@pytest.fixture(scope="module")
def frames():
    return demo.build_clinic(today=TODAY, now=NOW)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The default demo database (history ending on the real today), the frames it holds,
    its path and a moment just after it was built."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    expected_frames = demo.build_clinic()
    demo.create_demo_database(path)
    built_by = datetime.now()
    conn = db.connect(path)
    yield conn.cursor(), expected_frames, path, built_by
    conn.close()


def scalar(cur, sql, params=()):
    return cur.execute(sql, list(params)).fetchone()[0]


# ---------------------------------------------------------------- determinism and shape


def test_same_seed_and_day_give_the_same_clinic(frames):
    again = demo.build_clinic(today=TODAY, now=NOW)
    assert list(again) == list(demo.TABLES)
    for table in demo.TABLES:
        pd.testing.assert_frame_equal(frames[table], again[table], obj=table)


def test_another_seed_gives_another_clinic(frames):
    other = demo.build_clinic(seed=demo.DEFAULT_SEED + 1, today=TODAY, now=NOW)
    for table in ("homework_logs", "mood_logs", "questionnaires", "assignments"):
        assert not frames[table].equals(other[table]), table


def test_frames_have_the_schema_columns_and_ids_from_one(frames):
    conn = db.connect(":memory:")
    try:
        for table, frame in frames.items():
            schema = conn.execute(
                "SELECT column_name, is_nullable = 'YES' OR column_default IS NOT NULL "
                "FROM information_schema.columns WHERE table_name = ?",
                [table],
            ).fetchall()
            assert set(frame.columns) <= {name for name, _ in schema}, table
            required = {name for name, optional in schema if not optional}
            assert required <= set(frame.columns), table
            if table in demo.SEQUENCES:
                assert frame["id"].tolist() == list(range(1, len(frame) + 1)), table
            else:
                assert "id" not in frame.columns, table
    finally:
        conn.close()
    assert frames["discharges"]["caseload_id"].is_unique


def test_clinic_scales_with_its_arguments():
    frames = demo.build_clinic(
        n_clients=120, n_past_clients=0, n_therapists=6, n_supervisors=2, weeks=8, today=TODAY, now=NOW
    )
    users = frames["users"]
    assert users["role"].value_counts().to_dict() == {"client": 120, "therapist": 6, "supervisor": 2, "admin": 1}
    assert {"supervisor", "supervisor2", "client001", "client120"} <= set(users["username"])
    assert frames["supervision"]["supervisor_id"].nunique() == 2
    first_episodes = frames["caseload"].drop_duplicates("client_id")
    assert first_episodes.groupby("therapist_id").size().tolist() == [20] * 6
    assert frames["mood_logs"]["log_date"].min() >= pd.Timestamp(TODAY) - pd.Timedelta(weeks=8)


# ---------------------------------------------------------------- the loaded database


def test_loaded_database_holds_every_frame(loaded):
    cur, frames, *_ = loaded
    for table, frame in frames.items():
        assert scalar(cur, f"SELECT count(*) FROM {table}") == len(frame), table
    assert scalar(cur, "SELECT demo FROM clinic_settings") is True


def test_documented_logins_exist_with_their_roles_and_password(loaded):
    cur, *_ = loaded
    for role, username in demo.DEMO_LOGINS:
        found_role, password_hash, active = cur.execute(
            "SELECT role, password_hash, active FROM users WHERE username = ?", [username]
        ).fetchone()
        assert (found_role, active) == (role, True)
    assert bcrypt.checkpw(demo.DEMO_PASSWORD.encode(), password_hash.encode())
    assert scalar(cur, "SELECT count(DISTINCT password_hash) FROM users") == 1


def test_every_client_in_care_has_a_current_therapist_and_the_discharged_have_none(loaded):
    cur, *_ = loaded
    rows = cur.execute("""
        SELECT u.username,
               EXISTS (SELECT 1 FROM caseload c JOIN users t ON t.id = c.therapist_id AND t.role = 'therapist'
                       WHERE c.client_id = u.id AND c.ended_on IS NULL) AS current_therapist,
               NOT EXISTS (SELECT 1 FROM caseload c WHERE c.client_id = u.id
                           AND (c.ended_on IS NULL OR c.ended_on > current_date)) AS every_episode_ended
        FROM users u WHERE u.role = 'client' ORDER BY u.id""").fetchall()
    assert all(current != ended for _, current, ended in rows), rows
    current, past = rows[: -demo.DEMO_PAST_CLIENTS], rows[-demo.DEMO_PAST_CLIENTS :]
    discharged = [username for username, _, ended in current if ended]
    assert 8 <= len(discharged) <= 16
    assert not {"client01", "client02", "client03"} & set(discharged)
    assert all(ended for _, _, ended in past)


def test_client01_shows_an_engaged_client_today(loaded):
    """The documented client login, seen through the app's own queries on the real today."""
    cur, *_ = loaded
    client01 = cur.execute("SELECT id, display_name FROM users WHERE username = 'client01'").fetchone()
    me = Principal(user_id=client01[0], role="client", display_name=client01[1])
    today = date.today()
    (started_on,) = cur.execute("SELECT started_on FROM caseload WHERE client_id = ?", [me.user_id]).fetchone()

    active = homework.list_active_assignments(cur, me, client_id=me.user_id)
    assert (active["schedule"] == "weekly").sum() >= 2
    assert scalar(cur, "SELECT count(*) FROM paused_periods WHERE client_id = ?", [me.user_id]) == 0

    weeks = metrics.weekly_compliance(cur, me, client_id=me.user_id, window_start=started_on, window_end=today)
    assert 0.8 <= weeks["credit"].sum() / weeks["expected"].sum() <= 0.9
    assert (weeks["credit"] > 0).mean() >= 0.8  # homework logged in most weeks
    if today.weekday() > 0:  # on a Monday the new week may still be empty
        assert active["done_so_far"].sum() > 0
    mood_days = scalar(cur, "SELECT count(DISTINCT log_date) FROM mood_logs WHERE client_id = ?", [me.user_id])
    assert mood_days >= 0.75 * ((today - started_on).days + 1)


def test_exactly_the_two_risk_clients_have_item_9_and_a_flag_for_their_therapist(loaded):
    cur, *_ = loaded
    rows = cur.execute("""
        SELECT u.username, q.item_9, q.taken_on, f.therapist_id = c.therapist_id, f.item_9_answer
        FROM questionnaires q
        JOIN users u ON u.id = q.client_id
        JOIN caseload c ON c.client_id = q.client_id AND c.ended_on IS NULL
        LEFT JOIN risk_flags f ON f.questionnaire_id = q.id
        WHERE q.item_9 > 0 ORDER BY u.username""").fetchall()
    assert [(name, item, own, answer) for name, item, _, own, answer in rows] == [
        ("client02", 1, True, 1),
        ("client03", 2, True, 2),
    ]
    assert scalar(cur, "SELECT count(*) FROM risk_flags") == 2
    for username, _, taken_on, _, _ in rows:
        (last_phq9,) = cur.execute(
            """
            SELECT max(taken_on) FROM questionnaires q JOIN users u ON u.id = q.client_id
            WHERE u.username = ? AND instrument = 'PHQ-9'""",
            [username],
        ).fetchone()
        assert taken_on == last_phq9 and (date.today() - taken_on).days < 7
    therapist1 = scalar(cur, "SELECT id FROM users WHERE username = 'therapist1'")
    assert {therapist for (therapist,) in cur.execute("SELECT therapist_id FROM risk_flags").fetchall()} == {therapist1}


# ---------------------------------------------------------------- episodes that end


def episode_table(frames):
    """The caseload rows with their day of discharge, reason and counts of what lies inside them."""
    episodes = frames["caseload"].merge(frames["discharges"], left_on="id", right_on="caseload_id", how="left")
    episodes["last_day"] = episodes["ended_on"].fillna(pd.Timestamp(TODAY))
    sessions = frames["therapy_sessions"].query("attended").merge(episodes, on=["client_id", "therapist_id"])
    sessions = sessions[sessions["session_date"].between(sessions["started_on"], sessions["last_day"])]
    phq9 = frames["questionnaires"].query("instrument == 'PHQ-9'").merge(episodes, on="client_id")
    phq9 = phq9[phq9["taken_on"].between(phq9["started_on"], phq9["last_day"])]
    episodes["attended"] = episodes["id"].map(sessions.groupby("id_y").size()).fillna(0)
    # Every PHQ-9 of the demo has its GAD-7 on the same day: one PHQ-9 is one pair.
    episodes["pairs"] = episodes["id"].map(phq9.groupby("id_y").size()).fillna(0)
    episodes["days"] = (episodes["last_day"] - episodes["started_on"]).dt.days
    return episodes


def past_client_ids(frames):
    """The user ids of the past clients: the last demo.DEMO_PAST_CLIENTS client accounts."""
    clients = frames["users"].query("role == 'client'")["id"]
    return set(clients.iloc[len(clients) - demo.DEMO_PAST_CLIENTS :])


def test_about_a_quarter_of_the_current_clients_episodes_ended_with_their_discharge(frames):
    episodes = episode_table(frames)
    ended = episodes[episodes["ended_on"].notna()]
    current = episodes[~episodes["client_id"].isin(past_client_ids(frames))]
    assert 0.20 <= current["ended_on"].notna().sum() / len(current) <= 0.33
    assert (ended["ended_on"] < pd.Timestamp(TODAY)).all()
    # Exactly one discharge per ended episode, none for an episode in progress.
    caseload = frames["caseload"]
    assert sorted(frames["discharges"]["caseload_id"]) == sorted(caseload.loc[caseload["ended_on"].notna(), "id"])
    assert (ended["discharged_by"] == ended["therapist_id"]).all()
    assert (ended["recorded_at"].dt.normalize() == ended["ended_on"]).all()
    reasons = ended["reason"].astype(str).value_counts()
    assert reasons["completed"] > len(ended) / 2 and reasons["dropped_out"] >= 2 and reasons["referred_on"] >= 1
    assert set(reasons.index) <= {"completed", "dropped_out", "referred_on", "other"}

    completed = ended[ended["reason"] == "completed"]
    assert completed["days"].between(8 * 7, 12 * 7).all()
    assert ((completed["attended"] >= 2) & (completed["pairs"] >= 2)).all()
    dropped = ended[ended["reason"] == "dropped_out"]
    assert dropped["days"].between(3, 10).all()
    assert ((dropped["attended"] < 2) | (dropped["pairs"] < 2)).all()


def test_every_past_client_had_one_episode_that_ended_with_its_discharge(frames):
    episodes = episode_table(frames)
    past = episodes[episodes["client_id"].isin(past_client_ids(frames))]
    assert len(past) == past["client_id"].nunique() == demo.DEMO_PAST_CLIENTS
    assert past["ended_on"].notna().all() and (past["ended_on"] < pd.Timestamp(TODAY)).all()
    reasons = past["reason"].astype(str).value_counts()
    assert (
        reasons["completed"] > demo.DEMO_PAST_CLIENTS / 2
        and reasons["dropped_out"] >= 2
        and reasons["referred_on"] >= 2
    )
    # Spread evenly over the therapists, as the current clients are.
    assert past.groupby("therapist_id").size().tolist() == [demo.DEMO_PAST_CLIENTS // 4] * 4
    users = frames["users"].set_index("id")
    assert users.loc[sorted(past["client_id"]), "username"].iloc[0] == "client61"  # numbered on after the 60


def test_a_few_clients_are_referred_again_to_the_same_therapist(frames):
    caseload = frames["caseload"].sort_values(["client_id", "started_on"])
    returning = caseload[caseload["client_id"].duplicated(keep=False)]
    assert 2 <= returning["client_id"].nunique() <= 3
    for _, both in returning.groupby("client_id"):
        assert len(both) == 2
        first, second = both.iloc[0], both.iloc[1]
        assert pd.notna(first["ended_on"]) and pd.isna(second["ended_on"])
        assert second["started_on"] > first["ended_on"] + pd.Timedelta(days=7)
        assert second["started_on"] >= pd.Timestamp(TODAY) - pd.Timedelta(weeks=2)
        assert second["therapist_id"] == first["therapist_id"]


def dated_rows(frames):
    """(table, column, client_id, first day, last day) of every dated row: a row's days must lie
    inside one episode of its client (an assignment from its start to its end or due date)."""
    assignments = frames["assignments"]
    spans = [
        (
            "assignments",
            assignments["client_id"],
            assignments["starts_on"],
            assignments["ends_on"].fillna(assignments["due_on"]).fillna(pd.Timestamp(TODAY)),
        ),
        (
            "paused_periods",
            frames["paused_periods"]["client_id"],
            frames["paused_periods"]["starts_on"],
            frames["paused_periods"]["ends_on"],
        ),
    ]
    for table, column in (
        ("homework_logs", "log_date"),
        ("mood_logs", "log_date"),
        ("questionnaires", "taken_on"),
        ("therapy_sessions", "session_date"),
        ("risk_flags", "raised_at"),
    ):
        day = frames[table][column].dt.normalize()
        spans.append((table, frames[table]["client_id"], day, day))
    for table, client, first, last in spans:
        yield table, pd.DataFrame({"client_id": client, "first": first, "last": last, "row": range(len(client))})


def test_nothing_is_dated_outside_the_clients_episodes(frames):
    episodes = frames["caseload"].assign(last_day=lambda c: c["ended_on"].fillna(pd.Timestamp(TODAY)))
    for table, rows in dated_rows(frames):
        joined = rows.merge(episodes, on="client_id")
        inside = joined[(joined["first"] >= joined["started_on"]) & (joined["last"] <= joined["last_day"])]
        outside = rows[~rows["row"].isin(inside["row"])]
        assert outside.empty, f"{table}: {len(outside)} rows outside an episode, e.g. {outside.iloc[0].to_dict()}"
    # Clients out of care: nothing after the end of their last episode.
    out_of_care = episodes.groupby("client_id")["ended_on"].agg(lambda ends: ends.notna().all() and ends.max())
    out_of_care = out_of_care[out_of_care.astype(bool)]
    assert len(out_of_care) >= 8
    for table, rows in dated_rows(frames):
        rows = rows[rows["client_id"].isin(out_of_care.index)]
        assert (rows["last"] <= rows["client_id"].map(out_of_care)).all(), table


def test_some_clients_in_care_have_one_questionnaire_pair_so_far(frames):
    questionnaires = frames["questionnaires"]
    per_client = questionnaires.groupby("client_id").agg(rows=("id", "size"), days=("taken_on", "nunique"))
    one_pair = per_client[(per_client["rows"] == 2) & (per_client["days"] == 1)].index
    in_care = frames["caseload"].query("ended_on.isna()")["client_id"]
    new_clients = set(one_pair) & set(in_care) - set(frames["caseload"].query("ended_on.notna()")["client_id"])
    assert 3 <= len(new_clients) <= 5


def test_some_once_off_homework_is_done_before_its_due_week(frames):
    once = frames["assignments"].query("schedule == 'once'")[["id", "starts_on", "due_on"]]
    logs = frames["homework_logs"].merge(once, left_on="assignment_id", right_on="id")
    early = logs[
        (logs["status"] == "done")
        & logs["log_date"].between(logs["starts_on"], logs["due_on"])
        & (monday(logs["log_date"]) < monday(logs["due_on"]))
    ]
    assert len(early) >= 3


def test_the_documented_logins_stay_in_care(frames):
    users_ = frames["users"].set_index("username")["id"]
    caseload = frames["caseload"]
    for username in ("client01", "client02", "client03"):
        rows = caseload[caseload["client_id"] == users_[username]]
        assert len(rows) == 1 and rows["ended_on"].isna().all(), username
    assert (
        caseload.loc[caseload["client_id"] == users_["client01"], "started_on"].iloc[0]
        == frames["mood_logs"]["log_date"].min()
    )
    in_care = caseload[caseload["ended_on"].isna() & (caseload["therapist_id"] == users_["therapist1"])]
    assert len(in_care) >= 10


def test_the_cohort_rates_count_ended_episodes_and_look_like_a_service(loaded):
    """Through the data layer, as the supervisor of the loaded demo over its whole history."""
    cur, *_ = loaded
    supervisor = users.load_session_user(cur, LOGIN, username="supervisor").principal
    window = {"window_start": date.today() - timedelta(weeks=30), "window_end": date.today()}
    episodes = cohort.episode_summaries(cur, supervisor, **window)
    classified = classify_episodes(episodes, cohort.episode_questionnaires(cur, supervisor, **window))
    n_ended = scalar(cur, "SELECT count(*) FROM caseload WHERE ended_on <= current_date")
    assert len(classified) == scalar(cur, "SELECT count(*) FROM caseload")
    assert classified["ended"].sum() == n_ended == scalar(cur, "SELECT count(*) FROM discharges")
    assert classified.loc[classified["ended"], "end_reason"].notna().all()
    assert classified.loc[~classified["ended"], "end_reason"].isna().all()

    rates = outcome_rates(classified)
    assert rates["finished treatment"].denominator == n_ended
    assert rates["ended without finishing"].numerator >= 2
    assert rates["finished treatment"].numerator >= 5  # enough for the cohort's analyses
    assert 0.30 <= rates["recovery"].rate <= 0.70
    assert 0.45 <= rates["reliable improvement"].rate <= 0.85
    # One pair so far reads "not enough data", never a change of 0.
    one_pair = classified[classified["pairs"] == 1]
    assert one_pair["phq9_change"].isna().all()
    assert one_pair["outcome"].isin(["not enough data", "ended without finishing"]).all()
    assert (~one_pair["ended"]).sum() >= 3


def test_client01_is_engaged_on_the_fixed_day(frames):
    users = frames["users"]
    client01 = int(users.loc[users["username"] == "client01", "id"].iloc[0])
    assert 0.8 <= episode_compliance(frames, TODAY)[client01] <= 0.9
    logs = frames["homework_logs"].query("client_id == @client01")
    assert monday(logs["log_date"]).nunique() >= 0.8 * 16
    assert (logs["log_date"] >= monday(pd.Series([pd.Timestamp(TODAY)]))[0]).any()
    mood = frames["mood_logs"].query("client_id == @client01")
    assert mood["log_date"].nunique() >= 0.75 * (pd.Timestamp(TODAY) - mood["log_date"].min()).days
    assert not (frames["paused_periods"]["client_id"] == client01).any()


def test_no_timestamp_is_later_than_the_build(frames):
    for table, columns in TIMESTAMP_COLUMNS.items():
        for column in columns:
            latest = frames[table][column].max()
            assert pd.isna(latest) or latest <= pd.Timestamp(NOW), f"{table}.{column}"
    # Today's entries exist, in the part of today that had passed by NOW.
    for table in ("homework_logs", "mood_logs", "questionnaires"):
        frame = frames[table]
        day = frame["taken_on" if table == "questionnaires" else "log_date"]
        made_today = frame.loc[day == pd.Timestamp(TODAY), "created_at"]
        assert len(made_today) > 0, table
        assert made_today.between(pd.Timestamp(TODAY), pd.Timestamp(NOW)).all(), table


def test_no_timestamp_in_the_database_is_later_than_its_build(loaded):
    cur, _, _, built_by = loaded
    for table, columns in TIMESTAMP_COLUMNS.items():
        for column in columns:
            latest = scalar(cur, f"SELECT max({column}) FROM {table}")
            assert latest is None or latest <= built_by, f"{table}.{column}: {latest} after {built_by}"


def test_a_history_ending_in_the_past_does_not_depend_on_the_clock():
    past = TODAY - timedelta(days=40)
    fixed = demo.build_clinic(n_clients=12, weeks=4, today=past, now=NOW)
    clocked = demo.build_clinic(n_clients=12, weeks=4, today=past)
    for table in demo.TABLES:
        pd.testing.assert_frame_equal(fixed[table], clocked[table], obj=table)
    # The whole of that day had passed: its entries keep their evening times.
    assert fixed["mood_logs"]["created_at"].max() > pd.Timestamp(past) + pd.Timedelta(hours=18)


def test_the_history_cannot_end_after_now():
    with pytest.raises(ValueError, match="cannot end after now"):
        demo.build_clinic(today=TODAY + timedelta(days=1), now=NOW)


def test_every_category_appears(loaded):
    cur, *_ = loaded
    found = {category for (category,) in cur.execute("SELECT DISTINCT category FROM assignments").fetchall()}
    assert found == set(CATEGORIES)


def test_nothing_is_dated_after_today(loaded):
    cur, *_ = loaded
    for table, columns in DATED_COLUMNS.items():
        for column in columns:
            assert scalar(cur, f"SELECT count(*) FROM {table} WHERE CAST({column} AS DATE) > current_date") == 0, (
                f"{table}.{column}"
            )


def test_homework_is_logged_only_on_open_days(loaded):
    cur, *_ = loaded
    assert (
        scalar(
            cur,
            """
        SELECT count(*) FROM homework_logs h JOIN assignments a ON a.id = h.assignment_id
        WHERE h.client_id <> a.client_id OR h.log_date < a.starts_on
           OR h.log_date > coalesce(a.ends_on, a.due_on, current_date)
           OR EXISTS (SELECT 1 FROM paused_periods p WHERE p.client_id = h.client_id
                      AND h.log_date BETWEEN p.starts_on AND p.ends_on)""",
        )
        == 0
    )


def test_inserts_with_default_ids_follow_the_loaded_rows(loaded):
    cur, frames, *_ = loaded
    client = scalar(cur, "SELECT id FROM users WHERE username = 'client01'")
    (new_id,) = cur.execute(
        "INSERT INTO mood_logs (client_id, log_date, mood) VALUES (?, current_date, 5) RETURNING id", [client]
    ).fetchone()
    assert new_id == len(frames["mood_logs"]) + 1
    cur.execute("""INSERT INTO users (username, display_name, role, password_hash)
                   VALUES ('new.client', 'New Client', 'client', 'x')""")


def test_an_existing_file_is_never_overwritten(loaded):
    _, _, path, _ = loaded
    with pytest.raises(FileExistsError, match="already exists"):
        demo.create_demo_database(path)


def test_command_line_creates_the_database_and_prints_the_logins(tmp_path, capsys):
    demo_main([str(tmp_path / "cli.duckdb"), "--seed", "3"])
    printed = capsys.readouterr().out
    assert demo.DEMO_PASSWORD in printed
    assert all(username in printed for _, username in demo.DEMO_LOGINS)
    with pytest.raises(SystemExit):
        demo_main([str(tmp_path / "cli.duckdb")])


# ---------------------------------------------------------------- the built-in effect


def monday(dates):
    return dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")


def episode_compliance(frames, today):
    """Each client's compliance over the episode, as docs/clinical-rules.md defines it."""
    assignments, paused = frames["assignments"], frames["paused_periods"]
    weekly = assignments[assignments["schedule"] == "weekly"]
    days = pd.concat(
        [
            pd.DataFrame(
                {
                    "assignment_id": a.id,
                    "client_id": a.client_id,
                    "times_per_week": a.times_per_week,
                    "day": pd.date_range(
                        a.starts_on, min(a.ends_on, pd.Timestamp(today)) if pd.notna(a.ends_on) else pd.Timestamp(today)
                    ),
                }
            )
            for a in weekly.itertuples()
        ]
    )
    for p in paused.itertuples():
        days = days[~((days["client_id"] == p.client_id) & days["day"].between(p.starts_on, p.ends_on))]
    days["week"] = monday(days["day"])
    expected = (
        days.groupby(["assignment_id", "client_id", "week"])
        .agg(open_days=("day", "size"), times_per_week=("times_per_week", "first"))
        .reset_index()
    )
    expected["expected"] = expected["times_per_week"] * expected["open_days"] / 7
    once = assignments[assignments["schedule"] == "once"]
    expected = pd.concat(
        [
            expected[["assignment_id", "client_id", "week", "expected"]],
            pd.DataFrame(
                {
                    "assignment_id": once["id"],
                    "client_id": once["client_id"],
                    "week": monday(once["due_on"]),
                    "expected": 1.0,
                }
            ),
        ]
    )
    logs = frames["homework_logs"]
    credit = (
        logs.assign(credit=logs["status"].astype(str).map(CREDIT), week=monday(logs["log_date"]))
        .groupby(["assignment_id", "week"])["credit"]
        .sum()
        .reset_index()
    )
    weeks = expected.merge(credit, on=["assignment_id", "week"], how="left").fillna({"credit": 0.0})
    weeks["capped"] = np.minimum(weeks["credit"], weeks["expected"])
    totals = weeks.groupby("client_id")[["capped", "expected"]].sum()
    return totals["capped"] / totals["expected"]


def phq9_change(frames):
    phq9 = frames["questionnaires"].query("instrument == 'PHQ-9'").sort_values(["client_id", "taken_on"])
    by_client = phq9.groupby("client_id")["total"]
    return (by_client.last() - by_client.first())[by_client.size() >= 2]


def test_more_homework_goes_with_more_improvement(frames):
    compliance = episode_compliance(frames, TODAY)
    change = phq9_change(frames)
    clients = change.index
    assert compliance.between(0, 1).all() and compliance.max() > 0.85 and compliance.min() < 0.15
    r, _ = stats.pearsonr(compliance[clients], change[clients])
    assert -0.40 <= r <= -0.15


def test_most_clients_start_as_cases(frames):
    first = (
        frames["questionnaires"]
        .sort_values("taken_on")
        .groupby(["client_id", "instrument"], observed=True)["total"]
        .first()
        .unstack()
    )
    cases = (first["PHQ-9"] >= 10) | (first["GAD-7"] >= 8)
    assert cases.mean() > 0.8


def test_one_homework_had_its_schedule_changed_and_its_past_weeks_kept_theirs(loaded):
    cur, _, _, _ = loaded
    [(assignment_id, client_id, therapist_id)] = cur.execute(
        """SELECT a.id, a.client_id, a.therapist_id FROM assignments a
           WHERE (SELECT count(*) FROM assignment_schedules v WHERE v.assignment_id = a.id) > 1"""
    ).fetchall()
    (_, before), (change_from, after) = cur.execute(
        "SELECT valid_from, times_per_week FROM assignment_schedules WHERE assignment_id = ? ORDER BY valid_from",
        [assignment_id],
    ).fetchall()
    assert after == before + 2 and change_from.weekday() == 0 and change_from < date.today()
    assert cur.execute("SELECT times_per_week FROM assignments WHERE id = ?", [assignment_id]).fetchone() == (after,)
    # The complete week before the change expects the old number of times, the week from it the new.
    by_assignment = metrics.compliance_by_assignment(
        cur,
        Principal(therapist_id, "therapist"),
        client_id=client_id,
        window_start=change_from - timedelta(days=7),
        window_end=change_from + timedelta(days=6),
    )
    assert by_assignment.set_index("assignment_id").loc[assignment_id, "expected"] == before + after


def test_some_clients_in_care_turned_reminders_on_weeks_ago_and_were_reminded_since(loaded):
    cur, *_ = loaded
    # The supervisor's view holds 5 or more such clients (the small-cell rule), in care today.
    by_therapist = cur.execute(
        """SELECT c.therapist_id, count(*) FROM reminder_preferences p
           JOIN caseload c ON c.client_id = p.client_id AND c.ended_on IS NULL
           WHERE p.enabled GROUP BY ALL"""
    ).fetchall()
    assert sum(count for _, count in by_therapist) >= 5
    # Turned on 5 to 8 weeks before this one, as the history says; reminded after that day only,
    # never today, never on a paused day, and only by the mail server's 'sent'.
    assert scalar(
        cur,
        """SELECT count(*) FROM reminder_preferences p JOIN reminder_history h USING (client_id)
           WHERE h.enabled AND h.changed_at = p.updated_at
             AND CAST(date_trunc('week', h.changed_at) AS DATE)
                 BETWEEN CAST(date_trunc('week', current_date) AS DATE) - 56
                     AND CAST(date_trunc('week', current_date) AS DATE) - 35""",
    ) == scalar(cur, "SELECT count(*) FROM reminder_preferences")
    assert (
        scalar(
            cur,
            """SELECT count(*) FROM outbox o JOIN reminder_history h ON h.client_id = o.recipient_id
           WHERE o.status = 'sent' AND o.kind = 'client_reminder' AND o.sent_at > h.changed_at
             AND CAST(o.due_at AS DATE) < current_date AND CAST(o.due_at AS TIME) = (
                 SELECT send_at FROM reminder_preferences p WHERE p.client_id = o.recipient_id)
             AND NOT EXISTS (SELECT 1 FROM paused_periods pp WHERE pp.client_id = o.recipient_id
                             AND CAST(o.due_at AS DATE) BETWEEN pp.starts_on AND pp.ends_on)""",
        )
        == scalar(cur, "SELECT count(*) FROM outbox")
        > 0
    )
    # The scheduler's rule: no reminder in a week whose weekly targets were all met by the day before.
    assert (
        scalar(
            cur,
            """SELECT count(*) FROM outbox o
           WHERE NOT EXISTS (
               SELECT 1 FROM assignments a
               WHERE a.client_id = o.recipient_id AND a.schedule = 'weekly'
                 AND a.starts_on <= CAST(o.due_at AS DATE)
                 AND (a.ends_on IS NULL OR a.ends_on >= CAST(o.due_at AS DATE))
                 AND (SELECT count(*) FROM homework_logs h
                      WHERE h.assignment_id = a.id AND h.status IN ('done', 'partly')
                        AND h.log_date >= CAST(date_trunc('week', o.due_at) AS DATE)
                        AND h.log_date < CAST(o.due_at AS DATE)) < a.times_per_week)""",
        )
        == 0
    )
