"""Numbered schema migrations. Never edit one that has been applied: add the next instead."""

INITIAL_SCHEMA = """
CREATE SEQUENCE user_id_seq;
CREATE TABLE users (
    id BIGINT PRIMARY KEY DEFAULT nextval('user_id_seq'),
    username VARCHAR NOT NULL UNIQUE,
    display_name VARCHAR NOT NULL,
    email VARCHAR,
    role VARCHAR NOT NULL CHECK (role IN ('client', 'therapist', 'supervisor', 'admin')),
    password_hash VARCHAR NOT NULL,
    active BOOLEAN NOT NULL DEFAULT true,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    -- sessions (cookies) issued before this moment no longer log in
    sessions_valid_after TIMESTAMP NOT NULL DEFAULT current_timestamp,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- An episode of care: a client with a therapist, from started_on until ended_on.
CREATE SEQUENCE caseload_id_seq;
CREATE TABLE caseload (
    id BIGINT PRIMARY KEY DEFAULT nextval('caseload_id_seq'),
    client_id BIGINT NOT NULL REFERENCES users (id),
    therapist_id BIGINT NOT NULL REFERENCES users (id),
    started_on DATE NOT NULL,
    ended_on DATE,
    questionnaire_every_days INTEGER NOT NULL DEFAULT 7 CHECK (questionnaire_every_days BETWEEN 1 AND 90),
    CHECK (ended_on IS NULL OR ended_on >= started_on)
);

CREATE SEQUENCE supervision_id_seq;
CREATE TABLE supervision (
    id BIGINT PRIMARY KEY DEFAULT nextval('supervision_id_seq'),
    therapist_id BIGINT NOT NULL REFERENCES users (id),
    supervisor_id BIGINT NOT NULL REFERENCES users (id),
    started_on DATE NOT NULL,
    ended_on DATE,
    CHECK (ended_on IS NULL OR ended_on >= started_on)
);

CREATE SEQUENCE assignment_id_seq;
CREATE TABLE assignments (
    id BIGINT PRIMARY KEY DEFAULT nextval('assignment_id_seq'),
    client_id BIGINT NOT NULL REFERENCES users (id),
    therapist_id BIGINT NOT NULL REFERENCES users (id),
    title VARCHAR NOT NULL CHECK (length(trim(title)) > 0),
    category VARCHAR NOT NULL CHECK (category IN (
        'thought_record', 'behavioural_activation', 'exposure', 'relaxation_mindfulness',
        'skills_practice', 'reading_psychoeducation', 'other')),
    instructions VARCHAR NOT NULL DEFAULT '',
    schedule VARCHAR NOT NULL CHECK (schedule IN ('weekly', 'once')),
    times_per_week INTEGER CHECK (times_per_week BETWEEN 1 AND 14),
    due_on DATE,
    starts_on DATE NOT NULL,
    ends_on DATE,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    CHECK (ends_on IS NULL OR ends_on >= starts_on),
    CHECK ((schedule = 'weekly' AND times_per_week IS NOT NULL AND due_on IS NULL)
        OR (schedule = 'once' AND due_on IS NOT NULL AND times_per_week IS NULL))
);

CREATE SEQUENCE homework_log_id_seq;
CREATE TABLE homework_logs (
    id BIGINT PRIMARY KEY DEFAULT nextval('homework_log_id_seq'),
    assignment_id BIGINT NOT NULL REFERENCES assignments (id),
    client_id BIGINT NOT NULL REFERENCES users (id),
    log_date DATE NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('done', 'partly', 'not_done')),
    minutes INTEGER CHECK (minutes BETWEEN 0 AND 600),
    helpfulness INTEGER CHECK (helpfulness BETWEEN 1 AND 5),
    difficulty INTEGER CHECK (difficulty BETWEEN 1 AND 5),
    note VARCHAR CHECK (length(note) <= 2000),
    submission_id VARCHAR,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_at TIMESTAMP
);

-- Holiday or illness: days excluded from what was expected.
CREATE SEQUENCE paused_period_id_seq;
CREATE TABLE paused_periods (
    id BIGINT PRIMARY KEY DEFAULT nextval('paused_period_id_seq'),
    client_id BIGINT NOT NULL REFERENCES users (id),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    reason VARCHAR NOT NULL DEFAULT '',
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    CHECK (ends_on >= starts_on)
);

CREATE SEQUENCE mood_log_id_seq;
CREATE TABLE mood_logs (
    id BIGINT PRIMARY KEY DEFAULT nextval('mood_log_id_seq'),
    client_id BIGINT NOT NULL REFERENCES users (id),
    log_date DATE NOT NULL,
    mood INTEGER NOT NULL CHECK (mood BETWEEN 0 AND 10),
    anxiety INTEGER CHECK (anxiety BETWEEN 0 AND 10),
    note VARCHAR CHECK (length(note) <= 2000),
    submission_id VARCHAR,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_at TIMESTAMP
);

-- PHQ-9 uses items 1-9 and the optional difficulty question; GAD-7 items 1-7.
CREATE SEQUENCE questionnaire_id_seq;
CREATE TABLE questionnaires (
    id BIGINT PRIMARY KEY DEFAULT nextval('questionnaire_id_seq'),
    client_id BIGINT NOT NULL REFERENCES users (id),
    instrument VARCHAR NOT NULL CHECK (instrument IN ('PHQ-9', 'GAD-7')),
    taken_on DATE NOT NULL,
    item_1 INTEGER NOT NULL CHECK (item_1 BETWEEN 0 AND 3),
    item_2 INTEGER NOT NULL CHECK (item_2 BETWEEN 0 AND 3),
    item_3 INTEGER NOT NULL CHECK (item_3 BETWEEN 0 AND 3),
    item_4 INTEGER NOT NULL CHECK (item_4 BETWEEN 0 AND 3),
    item_5 INTEGER NOT NULL CHECK (item_5 BETWEEN 0 AND 3),
    item_6 INTEGER NOT NULL CHECK (item_6 BETWEEN 0 AND 3),
    item_7 INTEGER NOT NULL CHECK (item_7 BETWEEN 0 AND 3),
    item_8 INTEGER CHECK (item_8 BETWEEN 0 AND 3),
    item_9 INTEGER CHECK (item_9 BETWEEN 0 AND 3),
    difficulty INTEGER CHECK (difficulty BETWEEN 0 AND 3),
    total INTEGER NOT NULL,
    submission_id VARCHAR,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    CHECK ((instrument = 'PHQ-9' AND item_8 IS NOT NULL AND item_9 IS NOT NULL
            AND total BETWEEN 0 AND 27)
        OR (instrument = 'GAD-7' AND item_8 IS NULL AND item_9 IS NULL AND difficulty IS NULL
            AND total BETWEEN 0 AND 21))
);

CREATE SEQUENCE therapy_session_id_seq;
CREATE TABLE therapy_sessions (
    id BIGINT PRIMARY KEY DEFAULT nextval('therapy_session_id_seq'),
    client_id BIGINT NOT NULL REFERENCES users (id),
    therapist_id BIGINT NOT NULL REFERENCES users (id),
    session_date DATE NOT NULL,
    attended BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Raised for the treating therapist when PHQ-9 item 9 is above 0.
CREATE SEQUENCE risk_flag_id_seq;
CREATE TABLE risk_flags (
    id BIGINT PRIMARY KEY DEFAULT nextval('risk_flag_id_seq'),
    client_id BIGINT NOT NULL REFERENCES users (id),
    therapist_id BIGINT REFERENCES users (id),
    questionnaire_id BIGINT NOT NULL REFERENCES questionnaires (id),
    item_9_answer INTEGER NOT NULL CHECK (item_9_answer BETWEEN 1 AND 3),
    raised_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE SEQUENCE risk_acknowledgement_id_seq;
CREATE TABLE risk_acknowledgements (
    id BIGINT PRIMARY KEY DEFAULT nextval('risk_acknowledgement_id_seq'),
    risk_flag_id BIGINT NOT NULL REFERENCES risk_flags (id),
    therapist_id BIGINT NOT NULL REFERENCES users (id),
    note VARCHAR NOT NULL CHECK (length(note) <= 2000),
    acknowledged_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Who did what to which record, and when; never clinical content. Append-only.
CREATE SEQUENCE audit_id_seq;
CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY DEFAULT nextval('audit_id_seq'),
    occurred_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    actor_id BIGINT,
    actor_role VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    client_id BIGINT,
    record_kind VARCHAR,
    record_id BIGINT,
    outcome VARCHAR NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    detail VARCHAR
);

-- One row: facts about this database, e.g. whether it holds the demo clinic.
CREATE TABLE clinic_settings (
    demo BOOLEAN NOT NULL DEFAULT false
);
INSERT INTO clinic_settings (demo) VALUES (false);
"""

# Supervisors see clients as pseudonyms: a keyed hash with this clinic's own random secret.
PSEUDONYM_SECRET = """
ALTER TABLE clinic_settings ADD COLUMN pseudonym_secret VARCHAR;
UPDATE clinic_settings
SET pseudonym_secret = sha256(CAST(gen_random_uuid() AS VARCHAR) || CAST(gen_random_uuid() AS VARCHAR));
"""

# A client's submission id (one per form showing) is stored once, even when two requests race.
UNIQUE_SUBMISSIONS = """
CREATE UNIQUE INDEX homework_logs_submission ON homework_logs (client_id, submission_id);
CREATE UNIQUE INDEX mood_logs_submission ON mood_logs (client_id, submission_id);
CREATE UNIQUE INDEX questionnaires_submission ON questionnaires (client_id, submission_id);
"""

# Server-side login sessions (docs/architecture.md, "Authentication"): the re-login cookie carries a random
# session id whose hash is stored here; logout, password reset, deactivation, lock-out and idle
# expiry end the row, and a cookie whose row is missing or ended logs nobody in.
# users.sessions_valid_after is no longer read (a column of a referenced table cannot be dropped).
# Names typed at the login form that are no active account lock like accounts, keyed by a hash.
LOGIN_SESSIONS = """
CREATE TABLE login_sessions (
    token_hash VARCHAR PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    started_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    end_reason VARCHAR CHECK (end_reason IN ('logout', 'password_reset', 'deactivated', 'locked', 'idle',
                                             'expired'))
);
CREATE INDEX login_sessions_user ON login_sessions (user_id);
CREATE TABLE unknown_login_names (
    name_digest VARCHAR PRIMARY KEY,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP
);
"""

# Episodes that end (docs/clinical-rules.md, "Outcomes"): a discharge ends the caseload row
# (caseload.ended_on is its last day) and records why here, once per episode. Rows ended by a
# transfer to another therapist have no discharge (their reason reads "moved to another therapist").
DISCHARGES = """
CREATE TABLE discharges (
    caseload_id BIGINT PRIMARY KEY REFERENCES caseload (id),
    reason VARCHAR NOT NULL CHECK (reason IN ('completed', 'dropped_out', 'referred_on', 'other')),
    discharged_by BIGINT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
"""

# Schedule versions (docs/clinical-rules.md, "Homework and compliance"): a change of schedule applies
# from the day of the change, so every version of an assignment's schedule is kept. valid_from is the
# day the version was set; the version in force on a day is the one with the greatest valid_from on or
# before it, and the first version also covers the days before it (homework may start before the day
# it was set). The assignments row keeps holding the current values. Existing assignments get one
# version each, from their current values, set on the day they were created.
SCHEDULE_VERSIONS = """
CREATE SEQUENCE assignment_schedule_id_seq;
CREATE TABLE assignment_schedules (
    id BIGINT PRIMARY KEY DEFAULT nextval('assignment_schedule_id_seq'),
    assignment_id BIGINT NOT NULL REFERENCES assignments (id),
    valid_from DATE NOT NULL,
    schedule VARCHAR NOT NULL CHECK (schedule IN ('weekly', 'once')),
    times_per_week INTEGER CHECK (times_per_week BETWEEN 1 AND 14),
    due_on DATE,
    starts_on DATE NOT NULL,
    ends_on DATE,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    UNIQUE (assignment_id, valid_from),
    CHECK (ends_on IS NULL OR ends_on >= starts_on),
    CHECK ((schedule = 'weekly' AND times_per_week IS NOT NULL AND due_on IS NULL)
        OR (schedule = 'once' AND due_on IS NOT NULL AND times_per_week IS NULL))
);
INSERT INTO assignment_schedules (assignment_id, valid_from, schedule, times_per_week, due_on, starts_on,
                                  ends_on, created_at)
SELECT id, least(CAST(created_at AS DATE), current_date), schedule, times_per_week, due_on, starts_on,
       ends_on, created_at
FROM assignments
ORDER BY id;
"""

# The clinical support checklist (issue #17; clinical/support_checklist.py): for a client not on
# track, the therapist ticks what they reviewed and notes what they changed, against the episode
# (caseload row). The ticked items are one VARCHAR[] of item keys rather than a BOOLEAN column per
# item: it is what the form gives and the page reads back, with no mapping between columns and
# keys; the CHECK keeps it to at least one known key, each once. The keys are spelled out here
# (a migration never changes): a new item needs a new migration either way. submission_id makes
# a resent form store once, unique per client as in 003_unique_submissions.
# caseload_id has no FOREIGN KEY: DuckDB (2.0.1, checked) then refuses `UPDATE caseload ... RETURNING`
# on a referenced row ("still referenced by a foreign key"), which is how caseload.discharge_client
# ends an episode. The data layer writes it from the caseload row itself (INSERT ... SELECT).
SUPPORT_CHECKLISTS = """
CREATE SEQUENCE support_checklist_id_seq;
CREATE TABLE support_checklists (
    id BIGINT PRIMARY KEY DEFAULT nextval('support_checklist_id_seq'),
    caseload_id BIGINT NOT NULL,
    client_id BIGINT NOT NULL REFERENCES users (id),
    therapist_id BIGINT NOT NULL REFERENCES users (id),
    reviewed VARCHAR[] NOT NULL CHECK (
        len(reviewed) >= 1
        AND len(list_distinct(reviewed)) = len(reviewed)
        AND list_has_all(['alliance', 'motivation_readiness', 'social_support', 'life_events',
                          'homework_fit', 'medication_review'], reviewed)),
    changes VARCHAR NOT NULL DEFAULT '' CHECK (length(changes) <= 2000),
    submission_id VARCHAR,
    recorded_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    UNIQUE (client_id, submission_id)
);
"""

# Reminders (issue #16): a client's own choice of reminder (off by default; at send_at, UTC until 010,
# on the ISO weekdays in `days`, 1 = Monday), and the outbox of messages to send. A message row holds
# no body: the body is rendered at send time from `kind` and carries no clinical data. message_key is
# unique ('reminder:<client_id>:<date>'), so queuing the same day's reminder twice stores it once.
# Rows are never deleted: a message ends 'sent', 'failed' (after its last attempt) or 'not_sent'
# (with the reason in last_error), and the admin sees them all.
REMINDERS = """
CREATE TABLE reminder_preferences (
    client_id BIGINT PRIMARY KEY REFERENCES users (id),
    enabled BOOLEAN NOT NULL DEFAULT false,
    send_at TIME NOT NULL DEFAULT TIME '18:00',
    days INTEGER[] NOT NULL DEFAULT [1, 2, 3, 4, 5, 6, 7],
    updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_by BIGINT REFERENCES users (id),
    -- ISO weekdays, each once (list_distinct also drops NULLs); at least one when enabled.
    CHECK (coalesce(list_min(days), 1) >= 1 AND coalesce(list_max(days), 7) <= 7),
    CHECK (len(days) = len(list_distinct(days))),
    CHECK (NOT enabled OR len(days) > 0)
);
CREATE SEQUENCE outbox_id_seq;
CREATE TABLE outbox (
    id BIGINT PRIMARY KEY DEFAULT nextval('outbox_id_seq'),
    message_key VARCHAR NOT NULL UNIQUE,
    recipient_id BIGINT NOT NULL REFERENCES users (id),
    kind VARCHAR NOT NULL CHECK (kind IN ('client_reminder')),
    due_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'not_sent')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    last_error VARCHAR,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
"""

# Risk alerts (issue #16): a new PHQ-9 item-9 flag emails the client's therapist, or the clinic's safety
# contacts when the client has none (ops/scheduler.py), through the same outbox, as kind 'risk_alert'
# (message_key 'risk_alert:<flag_id>:<recipient_id>'). DuckDB (2.0.1) cannot drop or alter a CHECK
# constraint, so the outbox is rebuilt with the wider CHECK: same columns, same rows and ids, same
# sequence (outbox_id_seq, not dropped). No table references outbox by a FOREIGN KEY (only outbox
# references users), so it can be dropped and the new one renamed in its place.
RISK_ALERTS = """
CREATE TABLE outbox_new (
    id BIGINT PRIMARY KEY DEFAULT nextval('outbox_id_seq'),
    message_key VARCHAR NOT NULL UNIQUE,
    recipient_id BIGINT NOT NULL REFERENCES users (id),
    kind VARCHAR NOT NULL CHECK (kind IN ('client_reminder', 'risk_alert')),
    due_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'not_sent')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    last_error VARCHAR,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO outbox_new (id, message_key, recipient_id, kind, due_at, status, attempts, next_attempt_at, last_error,
                        sent_at, created_at)
SELECT id, message_key, recipient_id, kind, due_at, status, attempts, next_attempt_at, last_error, sent_at, created_at
FROM outbox
ORDER BY id;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
"""

# Nudges and weekly digests (issue #16). A therapist's one-off nudge to a client goes through the outbox as
# kind 'nudge' ('nudge:<client_id>:<date>': one a client a day), and a therapist's weekly digest of their
# caseload as kind 'therapist_digest' ('digest:<therapist_id>:<ISO year>-W<week>': one a week); neither
# stores a body. digest_preferences holds each therapist's choice: off by default, on an ISO weekday
# (1 = Monday) at send_at (UTC). The outbox is rebuilt for the wider kind CHECK as in 009_risk_alerts
# (DuckDB cannot alter a CHECK): same columns, rows, ids and sequence.
NUDGES_AND_DIGESTS = """
CREATE TABLE digest_preferences (
    therapist_id BIGINT PRIMARY KEY REFERENCES users (id),
    enabled BOOLEAN NOT NULL DEFAULT false,
    weekday INTEGER NOT NULL DEFAULT 1 CHECK (weekday BETWEEN 1 AND 7),
    send_at TIME NOT NULL DEFAULT TIME '08:00',
    updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE TABLE outbox_new (
    id BIGINT PRIMARY KEY DEFAULT nextval('outbox_id_seq'),
    message_key VARCHAR NOT NULL UNIQUE,
    recipient_id BIGINT NOT NULL REFERENCES users (id),
    kind VARCHAR NOT NULL CHECK (kind IN ('client_reminder', 'risk_alert', 'nudge', 'therapist_digest')),
    due_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'not_sent')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    last_error VARCHAR,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO outbox_new (id, message_key, recipient_id, kind, due_at, status, attempts, next_attempt_at, last_error,
                        sent_at, created_at)
SELECT id, message_key, recipient_id, kind, due_at, status, attempts, next_attempt_at, last_error, sent_at, created_at
FROM outbox
ORDER BY id;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
"""

# When a client turned reminders on or off (issue #16, "does reminding help?"): reminder_preferences
# holds the current choice only. reminders.set_reminders adds a row when the choice changes (in the
# same transaction). The current rows that are on are taken as turned on when they were last saved
# (updated_at): the first on-row of the history. A row that is off says nothing about whether the
# client was ever on (saving other settings while off changes updated_at too), so it adds none.
REMINDER_HISTORY = """
CREATE SEQUENCE reminder_history_id_seq;
CREATE TABLE reminder_history (
    id BIGINT PRIMARY KEY DEFAULT nextval('reminder_history_id_seq'),
    client_id BIGINT NOT NULL REFERENCES users (id),
    enabled BOOLEAN NOT NULL,
    changed_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    changed_by BIGINT REFERENCES users (id)
);
INSERT INTO reminder_history (client_id, enabled, changed_at, changed_by)
SELECT client_id, true, updated_at, updated_by
FROM reminder_preferences
WHERE enabled
ORDER BY client_id;
"""

# Time zones (issue #16): a client's own time zone for reminders, an IANA name (data_layer.reminders
# checks it against zoneinfo's names); NULL: the clinic's (HOMEWORK_TIMEZONE). Their send_at and days
# are read in that zone from now on (ops/scheduler.py). Nothing references reminder_preferences, so
# DuckDB adds the column in place; existing rows get NULL, the clinic's zone.
REMINDER_TIME_ZONES = """
ALTER TABLE reminder_preferences ADD COLUMN time_zone VARCHAR;
"""

# Server mode's shared state (issue #15), which the embedded file keeps in its one process's memory:
# - the data version: every committed write that a cached view reads takes the sequence's next value,
#   and each app process keys its dashboard caches on the last one, so a write in one process
#   invalidates every process's caches (data_layer.core.db.data_version);
# - the login throttle's token buckets, per client address and clinic-wide
#   (data_layer.core.login_throttle.DatabaseLoginThrottle).
# Nothing on DuckDB.
SERVER_MODE_STATE = ""

# Server mode's indexes (issue #15): the scoped queries look rows up by client, therapist, assignment
# or recipient, and on PostgreSQL a query over one client's rows otherwise reads the whole table
# ("does reminding help?" reads a client's logs once per reminder: 185 ms at M without
# homework_logs_client_created, 14 ms with it). Nothing on DuckDB: its scans skip row groups by their
# min/max, and its ART indexes would only slow the writes.
POSTGRES_INDEXES = ""

MIGRATIONS = [
    ("001_initial_schema", INITIAL_SCHEMA),
    ("002_pseudonym_secret", PSEUDONYM_SECRET),
    ("003_unique_submissions", UNIQUE_SUBMISSIONS),
    ("004_login_sessions", LOGIN_SESSIONS),
    ("005_discharges", DISCHARGES),
    ("006_schedule_versions", SCHEDULE_VERSIONS),
    ("007_support_checklists", SUPPORT_CHECKLISTS),
    ("008_reminders", REMINDERS),
    ("009_risk_alerts", RISK_ALERTS),
    ("010_reminder_time_zones", REMINDER_TIME_ZONES),
    ("011_nudges_and_digests", NUDGES_AND_DIGESTS),
    ("012_reminder_history", REMINDER_HISTORY),
    ("013_server_mode_state", SERVER_MODE_STATE),
    ("014_postgres_indexes", POSTGRES_INDEXES),
]


# The same migrations in PostgreSQL's dialect where sqlglot's translation cannot carry DuckDB's
# text (server mode, data_layer/core/postgres.py): DuckDB's list functions in CHECK constraints, and
# sha256 of text. Same tables, columns and rules; frozen like the rest once applied.
_POSTGRES_DISTINCT_ARRAY = """
CREATE FUNCTION array_is_distinct(anyarray) RETURNS boolean LANGUAGE sql IMMUTABLE
AS 'SELECT count(DISTINCT x) = cardinality($1) FROM unnest($1) AS u(x)';
"""
POSTGRES_MIGRATIONS = {
    # sqlglot writes DuckDB's sha256(text) as encode(sha256(text), 'hex'): PostgreSQL's sha256
    # takes bytea, so text gets an overload (UTF-8 bytes, as DuckDB hashes).
    "002_pseudonym_secret": """
CREATE FUNCTION sha256(text) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT
AS 'SELECT sha256(convert_to($1, ''UTF8''))';
ALTER TABLE clinic_settings ADD COLUMN pseudonym_secret VARCHAR;
UPDATE clinic_settings
SET pseudonym_secret = encode(sha256(gen_random_uuid()::text || gen_random_uuid()::text), 'hex');
""",
    "007_support_checklists": _POSTGRES_DISTINCT_ARRAY
    + """
CREATE SEQUENCE support_checklist_id_seq;
CREATE TABLE support_checklists (
    id BIGINT PRIMARY KEY DEFAULT nextval('support_checklist_id_seq'),
    caseload_id BIGINT NOT NULL,
    client_id BIGINT NOT NULL REFERENCES users (id),
    therapist_id BIGINT NOT NULL REFERENCES users (id),
    reviewed VARCHAR[] NOT NULL CHECK (
        cardinality(reviewed) >= 1
        AND array_is_distinct(reviewed)
        AND reviewed <@ ARRAY['alliance', 'motivation_readiness', 'social_support', 'life_events',
                              'homework_fit', 'medication_review']::VARCHAR[]),
    changes VARCHAR NOT NULL DEFAULT '' CHECK (length(changes) <= 2000),
    submission_id VARCHAR,
    recorded_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    UNIQUE (client_id, submission_id)
);
""",
    "008_reminders": """
CREATE TABLE reminder_preferences (
    client_id BIGINT PRIMARY KEY REFERENCES users (id),
    enabled BOOLEAN NOT NULL DEFAULT false,
    send_at TIME NOT NULL DEFAULT TIME '18:00',
    days INTEGER[] NOT NULL DEFAULT ARRAY[1, 2, 3, 4, 5, 6, 7],
    updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_by BIGINT REFERENCES users (id),
    -- ISO weekdays, each once (a NULL fails array_is_distinct); at least one when enabled.
    CHECK (1 <= ALL (days) AND 7 >= ALL (days)),
    CHECK (array_is_distinct(days)),
    CHECK (NOT enabled OR cardinality(days) > 0)
);
CREATE SEQUENCE outbox_id_seq;
CREATE TABLE outbox (
    id BIGINT PRIMARY KEY DEFAULT nextval('outbox_id_seq'),
    message_key VARCHAR NOT NULL UNIQUE,
    recipient_id BIGINT NOT NULL REFERENCES users (id),
    kind VARCHAR NOT NULL CHECK (kind IN ('client_reminder')),
    due_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'not_sent')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    last_error VARCHAR,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
""",
    "014_postgres_indexes": """
CREATE INDEX homework_logs_client_day ON homework_logs (client_id, log_date);
CREATE INDEX homework_logs_assignment_day ON homework_logs (assignment_id, log_date);
CREATE INDEX homework_logs_client_created ON homework_logs (client_id, created_at);
CREATE INDEX mood_logs_client_day ON mood_logs (client_id, log_date);
CREATE INDEX questionnaires_client_day ON questionnaires (client_id, taken_on);
CREATE INDEX therapy_sessions_client_day ON therapy_sessions (client_id, session_date);
CREATE INDEX assignments_client ON assignments (client_id);
CREATE INDEX assignments_therapist ON assignments (therapist_id);
CREATE INDEX caseload_client ON caseload (client_id);
CREATE INDEX caseload_therapist ON caseload (therapist_id);
CREATE INDEX supervision_supervisor ON supervision (supervisor_id);
CREATE INDEX paused_periods_client ON paused_periods (client_id);
CREATE INDEX risk_flags_client ON risk_flags (client_id);
CREATE INDEX reminder_history_client ON reminder_history (client_id);
CREATE INDEX outbox_recipient_sent ON outbox (recipient_id, sent_at);
CREATE INDEX outbox_status_next_attempt ON outbox (status, next_attempt_at);
CREATE INDEX audit_log_occurred ON audit_log (occurred_at);
""",
    "013_server_mode_state": """
CREATE SEQUENCE data_version;
CREATE TABLE login_throttle (
    bucket VARCHAR PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
""",
}
