"""Entry point: page config, login, the role's pages, and friendly errors."""
import streamlit as st

from data_layer.access import AccessDenied
from data_layer.db import DatabaseLocked, WriteConflict
from ui.auth import current_principal, logged_out
from ui.navigation import pages_for

# No page_icon: a Material icon would make every browser fetch the favicon from a third party.
st.set_page_config(page_title="Homework tracker")

try:
    principal = current_principal()
    if principal is None:
        # st.navigation on every run, even at the login form: without it Streamlit
        # falls back to listing every script in pages/.
        st.navigation([st.Page(logged_out, title="Log in")], position="hidden").run()
    else:
        st.navigation(pages_for(principal.role)).run()
except DatabaseLocked as error:
    st.error(str(error))
except (AccessDenied, WriteConflict) as error:
    st.error(str(error))
