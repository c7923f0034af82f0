"""Which pages each role gets: one list per role, turned into st.navigation's pages."""

import re
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
FAVICON = str(ROOT / "ui" / "favicon.png")
TOUCH_CSS = f"<style>{(ROOT / 'ui' / 'touch.css').read_text()}</style>"
# The style sheet of every page, the login page's too (caption contrast); no user text.
APP_CSS = f"<style>{(ROOT / 'ui' / 'app.css').read_text()}</style>"

# Each role's pages, in menu order, as one flat list: st.navigation draws sections inside its
# menu's list in markup that screen readers cannot follow (docs/accessibility.md), and no role
# has more than five pages.
PAGES = {
    "client": [
        ("pages/client_today.py", "Today", ":material/today:"),
        ("pages/client_questionnaires.py", "Questionnaires", ":material/checklist:"),
        ("pages/client_progress.py", "My progress", ":material/insights:"),
        ("pages/client_entries.py", "My entries", ":material/history:"),
        ("pages/client_reminders.py", "Reminders", ":material/notifications:"),
    ],
    "therapist": [
        ("pages/therapist_caseload.py", "Caseload", ":material/groups:"),
        ("pages/therapist_client.py", "Client", ":material/person:"),
        ("pages/therapist_insights.py", "Does homework work?", ":material/insights:"),
    ],
    "supervisor": [
        ("pages/supervisor_cohort.py", "Cohort", ":material/monitoring:"),
        ("pages/supervisor_therapists.py", "Therapists", ":material/groups:"),
    ],
    "admin": [
        ("pages/admin_accounts.py", "Accounts", ":material/manage_accounts:"),
        ("pages/admin_audit.py", "Audit log", ":material/policy:"),
        ("pages/admin_outbox.py", "Outbox", ":material/outbox:"),
    ],
}


def pages_for(role):
    """Return [st.Page, ...] for `role`, in menu order; a page outside it cannot be opened."""
    return [st.Page(ROOT / path, title=title, icon=icon) for path, title, icon in PAGES[role]]


def page_path(path):
    """Return the absolute path of page `path` (e.g. "pages/client_today.py") for st.switch_page
    and st.page_link: it works wherever the entry script runs from."""
    return str(ROOT / path)


# Roles whose pages start with a row of links: clients use a phone, where the sidebar's menu
# hides behind a small button and takes three taps per page switch.
LINKED_ROLES = ("client",)


# Runs in the browser after each page's run: on a phone-sized screen (Streamlit's own breakpoint,
# 768 px) an open menu covers the page that was just chosen in it, so it is closed. PAGE (the
# page's URL path, a code constant) makes the script new on each page, so it runs again.
_CLOSE_MENU_SCRIPT = """<script>
(() => {
  const started = Date.now(), page = "PAGE";
  const close = () => {
    const app = document.querySelector("[data-testid=stApp]");
    const sidebar = document.querySelector("[data-testid=stSidebar]");
    if (app && sidebar && app.dataset.testScriptState === "notRunning") {
      if (window.innerWidth < 768 && sidebar.dataset.collapsed === "false") {
        sidebar.querySelector("[data-testid=stSidebarCollapseButton] button")?.click();
      }
    } else if (Date.now() - started < 5000) {
      setTimeout(close, 100);
    }
  };
  close();
})();
</script>"""


def close_menu_script(url_path):
    """The script that closes the menu on a phone, for the page at `url_path` (a code constant,
    checked: no user text ever goes into a script)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", url_path):
        raise ValueError(f"not a page path: {url_path!r}")
    return _CLOSE_MENU_SCRIPT.replace("PAGE", url_path)


def page_links(role, slot, page):
    """Fill `slot` (a container at the top of the page) with a row of large labelled links to each of
    `role`'s pages, wrapping on a narrow screen, so that any page is one tap away, and with the
    style sheet that makes their controls 44 px to the finger (ui/touch.css); on a phone, close
    the menu once `page` (the st.Page that ran) is shown. Nothing for roles outside LINKED_ROLES;
    no links when this run's page asked for nothing above it (nothing_above)."""
    if role not in LINKED_ROLES:
        return
    # At the end of the page, below everything it drew: it shows nothing.
    st.html(close_menu_script(page.url_path), unsafe_allow_javascript=True)
    with slot:
        st.html(TOUCH_CSS)  # a style sheet of the app's own, no user text
    if st.session_state.pop(_NOTHING_ABOVE, False):
        return
    with slot, st.container(horizontal=True, gap="small", key="page_links"):
        for path, title, icon in PAGES[role]:
            st.page_link(page_path(path), label=title, icon=icon)


_NOTHING_ABOVE = "nothing_above_this_run"


def nothing_above():
    """Ask, during a page's run, for no links above it: crisis resources must come first on screen."""
    st.session_state[_NOTHING_ABOVE] = True
