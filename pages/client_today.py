"""The client's landing page: the homework they have now."""
import streamlit as st

from clinical.homework import CATEGORIES, describe_schedule
from data_layer import homework
from ui.auth import require_role
from ui.db import cursor
from ui.widgets import plain_text

principal = require_role("client")
cur = cursor()

st.title("Today")
st.caption(f"Hello {principal.display_name}. Small steps count.")

assignments = homework.list_active_assignments(cur, principal, client_id=principal.user_id)
if assignments.empty:
    st.info("You have no homework right now. Your therapist will set some with you.")
for row in assignments.itertuples():
    with st.container(border=True):
        st.subheader(row.title, anchor=False)
        schedule = describe_schedule(row.schedule, row.times_per_week, row.due_on)
        st.caption(f"{CATEGORIES[row.category]} · {schedule}")
        if row.instructions:
            plain_text(row.instructions)
        if row.schedule == "weekly":
            st.progress(min(row.done_this_week / row.times_per_week, 1.0),
                        text=f"{row.done_this_week:g} of {row.times_per_week} this week")
        elif row.done_this_week:
            st.progress(1.0, text="Done")
