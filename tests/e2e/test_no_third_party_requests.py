"""No page makes the browser ask any host but the app's own (issue #12, item 9): the app promises
not to phone home, so fonts, icons and favicons must all come from the app's server."""

from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import LOGINS, log_in, wait_until_idle
from ui.navigation import PAGES


@pytest.mark.parametrize("role", LOGINS)
def test_every_page_of_every_role_asks_only_the_app(browser, app_url, role):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        log_in(page, app_url, LOGINS[role])
        for _path, title, _icon in PAGES[role]:
            page.get_by_role("link", name=title).first.click()
            wait_until_idle(page)
            page.wait_for_timeout(300)  # a favicon is set just after the page's run
    finally:
        context.close()
    app_host = urlparse(app_url).netloc
    foreign = sorted(
        {
            url
            for url in requested
            if urlparse(url).scheme in ("http", "https", "ws", "wss") and urlparse(url).netloc != app_host
        }
    )
    assert not foreign, foreign
