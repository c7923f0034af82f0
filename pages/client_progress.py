"""The client's own progress: mood, weekly homework, PHQ-9 and GAD-7, and streaks."""

from datetime import date, timedelta

import streamlit as st

from clinical.compliance import current_streak
from data_layer import measures, mood
from data_layer.reports import metrics
from ui.auth import require_role
from ui.charts import (
    PLOTLY_CONFIG,
    compliance_figure,
    compliance_summary,
    mood_figure,
    mood_summary,
    scores_figure,
    scores_summary,
)
from ui.db import cursor
from ui.widgets import escape_markdown, recent_compliance_metric

principal = require_role("client")
cur = cursor()

WEEKS_SHOWN = 16
since = date.today() - timedelta(weeks=WEEKS_SHOWN)

st.title("My progress")
st.caption(f"The last {WEEKS_SHOWN} weeks.")
recent_compliance_metric(st, metrics.recent_compliance(cur, principal, client_id=principal.user_id).iloc[0])

streaks = metrics.compliance_by_assignment(
    cur, principal, client_id=principal.user_id, window_start=since, window_end=date.today()
)
if not streaks.empty:
    st.header("Streaks", anchor=False)
    st.caption("Weeks in a row you did what was planned. Paused weeks don't break a streak.")
    for row in streaks.itertuples():
        weeks_in_a_row = current_streak(row.met)
        st.markdown(f"**{weeks_in_a_row} week{'s' if weeks_in_a_row != 1 else ''}** · {escape_markdown(row.title)}")

weeks = metrics.weekly_compliance(
    cur, principal, client_id=principal.user_id, window_start=since, window_end=date.today()
)
if weeks.empty:
    st.info("No homework has been set yet, so there is nothing to count.")
else:
    st.plotly_chart(compliance_figure(weeks), config=PLOTLY_CONFIG)
    st.caption(compliance_summary(weeks))

daily = mood.daily_mood(cur, principal, client_id=principal.user_id, since=since)
if daily.empty:
    st.info("No mood check-ins yet. Add one on the Today page.")
else:
    st.plotly_chart(mood_figure(daily), config=PLOTLY_CONFIG)
    st.caption(mood_summary(daily))

scores = measures.list_questionnaires(cur, principal, client_id=principal.user_id)
for instrument in ("PHQ-9", "GAD-7"):
    taken = scores[scores["instrument"] == instrument]
    if taken.empty:
        st.info(f"No {instrument} yet. You can fill one in on the Questionnaires page.")
    else:
        st.plotly_chart(scores_figure(scores, instrument), config=PLOTLY_CONFIG)
        st.caption(scores_summary(scores, instrument))
