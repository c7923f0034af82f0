"""Each client's parameters (latent traits, engagement, pauses) and episodes of care.

Episodes of care end, as in a real service (docs/clinical-rules.md, "Outcomes"): episodes
start over the first six weeks of the history, and about a quarter of them have ended
before today, each with its caseload.ended_on and its `discharges` row: most completed
after 8-12 weeks of sessions, some dropped out within days of the start (one questionnaire
pair, one session attended at most), a few referred on. Nothing of an ended episode is
dated after its last day. A few completed or dropped-out clients were referred again in the
last two weeks (a second caseload row, same therapist, in progress, holding its first
session and questionnaire pair), and a few episodes began in the last week (one pair so
far). The documented logins stay in care: client01 (the whole history, engaged) and the
two risk clients (RISK_CLIENTS). Past clients (build_clinic's n_past_clients) are drawn the
same way, but every one of their episodes ended: the clinic's earlier intake.
"""

import numpy as np

# Parts of the model (the rest is in ops/demo/questionnaires.py and ops/demo/homework.py).
PHQ9_START = (15.0, 4.0)  # latent PHQ-9 at the start: mean, sd (most clients are cases)
PHQ9_NATURAL_CHANGE = (-11.5, 10.0)  # endpoint minus start: mean, sd (recovery differs a lot)
GAD7_START = 10.5  # latent GAD-7 at the start for an average PHQ-9
GAD7_NATURAL_CHANGE = -2.5  # GAD-7 endpoint shift beyond what follows from the PHQ-9 one
SHARE_FORTNIGHTLY = 0.1  # clients filling in questionnaires every 14 days instead of 7
SHARE_PAUSED = 0.12  # clients with a holiday or illness pause
STAGGER_DAYS = 42  # episodes start over the first six weeks of the history
# Episodes that end before today (docs/clinical-rules.md, "Outcomes"), as shares of all clients.
FATE_SHARE = {
    "completed": 0.17,  # discharged as completed at a session COMPLETED_WEEKS after the start
    "dropped_out": 0.06,  # came once, then stopped: discharged DROPOUT_DAYS after the start
    "referred_on": 0.03,  # referred to another service at a session REFERRED_WEEKS after the start
}
# How much the choice leans on the client's natural course (endpoint minus start of the latent
# PHQ-9, in SDs, against a uniform draw): positive picks those who improve most first.
FATE_LEANING = {"completed": 0.15, "dropped_out": 0.0, "referred_on": -0.15}
# The past clients (build_clinic's n_past_clients): accounts whose one episode ended before today,
# as the clinic's earlier intake; shares of them, drop-outs the rest. They give the outcome
# analyses and the supervisor's check of the not-on-track flag ended episodes to work on.
PAST_FATE_SHARE = {"completed": 0.7, "referred_on": 0.15}
SHARE_REREFERRED = 0.05  # completed or dropped out, and referred again in the last two weeks
SHARE_RECENT = 0.09  # episodes begun in the last week: one questionnaire pair so far
COMPLETED_WEEKS = (8, 12)
DROPOUT_DAYS = (3, 10)
REFERRED_WEEKS = (2, 6)
RELAPSE = (6.0, 2.0)  # PHQ-9 points gained between discharge and re-referral: mean, sd
FATES = ("in_progress", "completed", "dropped_out", "referred_on")  # codes 1-3: discharges.reason
RISK_CLIENTS = {1: 1, 2: 2}  # client index (client02, client03) -> PHQ-9 item 9 at the last PHQ-9
# client01 is the documented demo login, so it shows the product at its best: an engaged
# client (compliance about 0.87), never paused, with homework logged in the current week.
SHOWCASE_PROPENSITY = 0.92
PAUSE_REASONS = ["Holiday", "Flu", "Family visit", "Hospital stay", "Work trip", "Covid"]


def _client_parameters(rng, episode_rng, n, calendar, n_past=0):
    """Per-client facts and latent traits; all drawn with shapes that depend only on n.
    The last `n_past` of the n clients are past clients (_episodes).

    `start` and `end` are the first and last day of the client's (first) episode: `end` is
    the last day of the history while the episode is in progress (see _episodes).
    """
    last_day = calendar.n_days - 1
    start = np.floor(rng.random(n) * min(STAGGER_DAYS, calendar.n_days)).astype(np.int64)
    start[0] = 0  # client01 has the whole history
    fortnightly = rng.random(n) < SHARE_FORTNIGHTLY
    fortnightly[:3] = False  # client01 and the two risk clients answer weekly
    # Engagement from near 0 to near 1, independent of severity (severity must not drive homework).
    propensity = rng.uniform(0.03, 0.97, n)
    propensity[0] = SHOWCASE_PROPENSITY
    # Latent PHQ-9 and GAD-7 at the start and the natural endpoint each drifts to.
    phq_start = np.clip(rng.normal(*PHQ9_START, n), 7, 26)
    phq_end = np.clip(phq_start + rng.normal(*PHQ9_NATURAL_CHANGE, n), 0, 27)
    # Anxiety goes with depression, at the start and in its course.
    gad_start = np.clip(GAD7_START + 0.5 * (phq_start - PHQ9_START[0]) + rng.normal(0, 3.0, n), 2, 21)
    gad_end = np.clip(gad_start + 0.45 * (phq_end - phq_start) + rng.normal(GAD7_NATURAL_CHANGE, 3.0, n), 0, 21)
    # A holiday or illness pause of 4-10 days inside the episode for about one client in ten
    # (the episode must be long enough to hold it).
    paused = rng.random(n) < SHARE_PAUSED
    pause_days = rng.integers(4, 11, n)
    pause_position = rng.random(n)
    pause_by_client = rng.random(n) < 0.5
    pause_reason = rng.integers(len(PAUSE_REASONS), size=n)
    episodes = _episodes(episode_rng, start, phq_end - phq_start, calendar, n_past)
    start, end = episodes["start"], episodes["end"]
    pause_start = start + np.floor(pause_position * (end - start - pause_days)).astype(np.int64)
    paused &= pause_start > start
    paused[0] = False  # client01 has no break
    return {
        **episodes,
        "start_week": start // 7,
        "cadence": np.where(fortnightly, 14, 7),
        "propensity": propensity,
        "phq_start": phq_start,
        "phq_end": phq_end,
        "gad_start": gad_start,
        "gad_end": gad_end,
        # Clients without a pause get an empty interval (start after end).
        "pause_start": np.where(paused, pause_start, last_day + 1),
        "pause_end": np.where(paused, pause_start + pause_days - 1, -1),
        "pause_by_client": pause_by_client,
        "pause_reason": pause_reason,
        "paused": paused,
    }


def _episodes(rng, start, natural_change, calendar, n_past=0):
    """Who is still in care, who ended before today and how, and who came back.

    Per client: `fate` (a FATES index), `start` and `end` (first and last day of the first
    episode: the last day of the history while it is in progress), `ended`, `q_last` (the
    last day a questionnaire may be taken: a drop-out answers at the start only),
    `rereferral` (the start of a second episode, in progress, or -1) and `relapse` (PHQ-9
    points gained by then). The counts are shares of the current clients (all but the last
    `n_past`), rounded; client01 and the risk clients stay in progress. The last `n_past`
    clients are past clients: every one of their episodes ended before today
    (PAST_FATE_SHARE), and none came back. Which clients get which fate is drawn at random among
    those whose episode fits in the history before today, leaning on the client's natural
    course (FATE_LEANING; never on their homework): clients who get better complete, those
    who do not are more often referred on (stepped care).
    """
    n = len(start)
    last_day = calendar.n_days - 1
    priority = rng.random(n)
    recent_days = rng.integers(0, 7, n)
    completed_weeks = rng.integers(COMPLETED_WEEKS[0], COMPLETED_WEEKS[1] + 1, n)
    dropout_days = rng.integers(DROPOUT_DAYS[0], DROPOUT_DAYS[1] + 1, n)
    referred_weeks = rng.integers(REFERRED_WEEKS[0], REFERRED_WEEKS[1] + 1, n)
    rereferral_priority = rng.random(n)
    rereferral_days = rng.integers(0, 14, n)
    relapse = rng.normal(*RELAPSE, n)

    n_current = n - n_past
    past = np.arange(n) >= n_current
    free = ~past
    free[[index for index in (0, *RISK_CLIENTS) if index < n_current]] = False  # the showcase logins

    def choose(share, eligible, leaning=0.0, among=free, of=n_current):
        """The `share` of `of` clients, by priority among the `among` ones that are eligible."""
        order = np.argsort(priority + leaning * natural_change / PHQ9_NATURAL_CHANGE[1], kind="stable")
        chosen = order[(among & eligible)[order]][: round(share * of)]
        among[chosen] = False
        return chosen

    start = start.copy()
    recent = choose(SHARE_RECENT, np.ones(n, dtype=bool))
    start[recent] = np.maximum(last_day - recent_days[recent], 0)
    # A completed episode ends at a weekly session 8-12 weeks in (fewer when that would reach today).
    completed_weeks = np.minimum(completed_weeks, (last_day - 1 - start) // 7)
    ends = {
        "completed": start + 7 * completed_weeks,
        "dropped_out": start + dropout_days,
        "referred_on": start + 7 * referred_weeks,
    }
    eligible = {
        "completed": completed_weeks >= COMPLETED_WEEKS[0],
        "dropped_out": ends["dropped_out"] < last_day,
        "referred_on": ends["referred_on"] < last_day,
    }
    fate = np.zeros(n, dtype=np.int64)
    end = np.full(n, last_day)
    past_free = past.copy()
    for name in FATES[1:]:
        chosen = choose(FATE_SHARE[name], eligible[name], FATE_LEANING[name])
        fate[chosen] = FATES.index(name)
        end[chosen] = ends[name][chosen]
    # The past clients left over by the shares drop out (so drop-outs are chosen last).
    for name in ("completed", "referred_on", "dropped_out"):
        share = PAST_FATE_SHARE.get(name, 1.0)
        chosen = choose(share, eligible[name], FATE_LEANING[name], among=past_free, of=n_past)
        fate[chosen] = FATES.index(name)
        end[chosen] = ends[name][chosen]
    ended = fate > 0
    # Back in the last two weeks, at least a week after a completed or dropped-out episode ended.
    can_return = np.isin(fate, [FATES.index("completed"), FATES.index("dropped_out")]) & (end <= last_day - 21)
    can_return &= ~past
    returning = np.argsort(rereferral_priority, kind="stable")
    returning = returning[can_return[returning]][: round(SHARE_REREFERRED * n_current)]
    rereferral = np.full(n, -1)
    rereferral[returning] = last_day - rereferral_days[returning]
    return {
        "fate": fate,
        "start": start,
        "end": end,
        "ended": ended,
        "q_last": np.where(fate == FATES.index("dropped_out"), start, end),
        "rereferral": rereferral,
        "relapse": np.where(rereferral >= 0, np.maximum(relapse, 0), 0.0),
    }
