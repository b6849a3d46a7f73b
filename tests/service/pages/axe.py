"""axe-core (shipped in axe-playwright-python: no network) on the portal's pages, shared by the
browser tests. axe runs as script, and the portal's own contexts keep JavaScript off, so each
check runs in a context of its own holding the same cookies."""

from __future__ import annotations

from typing import Any


def assert_accessible(browser: Any, context: Any, url: str, *, shown: str | None = None) -> None:
    """No axe violation on `url` as `context` sees it. With `shown`, that HTML is checked at
    that address instead of asking the server again: the answer to a form (a POST), or a page
    shown once such as the recovery codes. The page's stylesheet still comes from the server,
    so colour contrast is judged as the client sees it."""
    from axe_playwright_python.sync_playwright import Axe

    checker = browser.new_context(storage_state=context.storage_state())
    try:
        if shown is not None:
            html = shown
            checker.route(
                url,
                lambda route: route.fulfill(
                    status=200, content_type="text/html; charset=utf-8", body=html
                ),
            )
        page = checker.new_page()
        page.goto(url)
        results = Axe().run(page)
        assert results.violations_count == 0, f"{url}:\n{results.generate_report()}"
    finally:
        checker.close()


def assert_shown_accessible(browser: Any, page: Any) -> None:
    """No axe violation on what `page` shows now, its server not asked again."""
    assert_accessible(browser, page.context, page.url, shown=page.content())
