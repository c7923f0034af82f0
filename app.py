"""Entry point: page config, login, the role's pages, and friendly errors."""

import streamlit as st

from data_layer.core.access import AccessDenied
from data_layer.core.db import DatabaseLocked, WriteConflict
from data_layer.core.settings import InvalidSetting
from ui.auth import current_principal, end_page_run, logged_out
from ui.navigation import APP_CSS, FAVICON, page_links, pages_for

# The app's own favicon, served by the app: a page's Material icon would otherwise become the
# favicon, which every browser fetches from a third party (fonts.gstatic.com).
st.set_page_config(page_title="Homework tracker", page_icon=FAVICON)
st.html(APP_CSS)  # only a <style>: Streamlit gives it no place on the page

try:
    principal = current_principal()
    if principal is None:
        # st.navigation on every run, even at the login form: without it Streamlit
        # falls back to listing every script in pages/.
        st.navigation([st.Page(logged_out, title="Log in")], position="hidden").run()
    else:
        page = st.navigation(pages_for(principal.role))
        links = st.container()  # at the top; filled once the page has run (it may ask for nothing above)
        try:
            page.run()
        finally:
            page_links(principal.role, links, page)
except (DatabaseLocked, InvalidSetting) as error:
    st.error(str(error))
except (AccessDenied, WriteConflict) as error:
    st.error(str(error))
finally:
    # However the run ends (a page's end, st.stop, a rerun, an error): its reads' audit rows.
    end_page_run()
