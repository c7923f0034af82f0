"""The pages the benchmark times and the data-layer calls each one makes (its recipe).

Each `*_queries` function mirrors its page's calls: bench.run times them directly (the raw-SQL
lower bound) beside the page itself under AppTest (bench.apptest).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from bench.scale import client_username
from clinical.reporting import reporting_periods
from data_layer import caseload, clinic, homework, login_sessions, measures, mood, paused, sessions, users
from data_layer.core import settings
from data_layer.core.access import LOGIN
from data_layer.reports import cohort, export, metrics
from ui.auth import COOKIE_LIFETIME

INSIGHTS_WINDOW_DAYS = 182  # the default date range of the therapist's insights page (ui/insights.py)
PROGRESS_WEEKS = 16  # the client progress page's window
HOMEWORK_NOTES_DAYS = 28  # the therapist client page's recent notes


def start_session(cur, username):
    """Start a login session for `username`, as the login form does; return its token."""
    user = users.load_session_user(cur, LOGIN, username=username)
    return login_sessions.start_login_session(cur, LOGIN, user_id=user.id, lifetime=COOKIE_LIFETIME)


def login_gate(cur, token):
    """Run the data-layer calls app.py makes before every page (ui.auth.current_principal).

    Returns the principal of the session of `token`.
    """
    clinic.is_demo(cur, LOGIN)
    return login_sessions.check_login_session(cur, LOGIN, token=token, idle_limit=settings.idle_limit()).user.principal


def client_today_queries(cur, principal):
    """The data-layer calls of pages/client_today.py."""
    homework.list_active_assignments(cur, principal, client_id=principal.user_id)


def client_progress_queries(cur, principal):
    """The data-layer calls of pages/client_progress.py."""
    today = date.today()
    since = today - timedelta(weeks=PROGRESS_WEEKS)
    me = principal.user_id
    metrics.recent_compliance(cur, principal, client_id=me)
    metrics.compliance_by_assignment(cur, principal, client_id=me, window_start=since, window_end=today)
    metrics.weekly_compliance(cur, principal, client_id=me, window_start=since, window_end=today)
    mood.daily_mood(cur, principal, client_id=me, since=since)
    measures.list_questionnaires(cur, principal, client_id=me)


def therapist_caseload_queries(cur, principal):
    """The data-layer calls of pages/therapist_caseload.py."""
    metrics.caseload_summary(cur, principal)


def therapist_client_queries(cur, principal):
    """The data-layer calls of pages/therapist_client.py, for the client it opens first."""
    clients = metrics.caseload_summary(cur, principal).sort_values("name")
    client_id = int(clients["client_id"].iloc[0])
    header = caseload.open_client(cur, principal, client_id=client_id)
    started, today = header["in_care_since"], date.today()
    mood.daily_mood(cur, principal, client_id=client_id, since=started)
    metrics.weekly_compliance(cur, principal, client_id=client_id, window_start=started, window_end=today)
    metrics.recent_compliance(cur, principal, client_id=client_id)
    measures.list_questionnaires(cur, principal, client_id=client_id)
    sessions.list_sessions(cur, principal, client_id=client_id)
    measures.list_risk_flags(cur, principal, client_id=client_id)
    homework.list_assignments(cur, principal, client_id=client_id)
    metrics.compliance_by_assignment(cur, principal, client_id=client_id, window_start=started, window_end=today)
    homework.list_homework_logs(cur, principal, client_id=client_id, since=today - timedelta(days=HOMEWORK_NOTES_DAYS))
    paused.list_paused_periods(cur, principal, client_id=client_id)
    export.export_client_record(cur, principal, client_id=client_id)


def default_window():
    """Return (window_start, window_end): the insights page's default date range."""
    today = date.today()
    return today - timedelta(days=INSIGHTS_WINDOW_DAYS), today


def therapist_insights_queries(cur, principal):
    """The data-layer calls of pages/therapist_insights.py (default filters)."""
    start, end = default_window()
    cohort.episode_summaries(cur, principal, window_start=start, window_end=end, therapist_id=None, category=None)
    cohort.episode_questionnaires(cur, principal, window_start=start, window_end=end, therapist_id=None)
    cohort.weekly_panel(cur, principal, window_start=start, window_end=end)
    cohort.category_summary(cur, principal, window_start=start, window_end=end)


def supervisor_cohort_queries(cur, principal):
    """The data-layer calls of pages/supervisor_cohort.py (default filters: the current quarter)."""
    today = date.today()
    caseload.list_supervised_therapists(cur, principal)
    current, *_ = reporting_periods(cohort.earliest_episode_start(cur, principal), today)
    start, end = current.first_day, current.last_day
    cohort.episode_summaries(cur, principal, window_start=start, window_end=end, therapist_id=None, category=None)
    cohort.episode_questionnaires(cur, principal, window_start=start, window_end=end, therapist_id=None)
    cohort.recent_episode_compliance(cur, principal)
    cohort.category_summary(cur, principal, window_start=start, window_end=end, therapist_id=None)
    cohort.weekly_panel(cur, principal, window_start=start, window_end=end, therapist_id=None, category=None)


@dataclass(frozen=True)
class Page:
    """One page to time: its script, the role that opens it, its queries and its cold-run target."""

    key: str
    label: str
    role: str
    script: str
    queries: object  # function(cur, principal) making the page's data-layer calls
    cold_target_ms: float


# Each `*_queries` function above mirrors its page's data-layer calls: keep them in step
# when a page changes, or the raw-SQL lower bound stops matching the page.
PAGES = (
    Page("client_today", "client Today", "client", "pages/client_today.py", client_today_queries, 500),
    Page("client_progress", "client Progress", "client", "pages/client_progress.py", client_progress_queries, 500),
    Page(
        "therapist_caseload",
        "therapist Caseload",
        "therapist",
        "pages/therapist_caseload.py",
        therapist_caseload_queries,
        1000,
    ),
    Page(
        "therapist_client", "therapist Client", "therapist", "pages/therapist_client.py", therapist_client_queries, 1000
    ),
    Page(
        "therapist_insights",
        "therapist Insights",
        "therapist",
        "pages/therapist_insights.py",
        therapist_insights_queries,
        1000,
    ),
    Page(
        "supervisor_cohort",
        "supervisor Cohort",
        "supervisor",
        "pages/supervisor_cohort.py",
        supervisor_cohort_queries,
        3000,
    ),
)


def typical_usernames(size):
    """Return {role: username} of the user whose view is timed: client01 (a year of history, as
    long as anyone's), therapist1 (about 50 clients) and supervisor (10 therapists at M and L)."""
    return {"client": client_username(size, 1), "therapist": "therapist1", "supervisor": "supervisor"}
