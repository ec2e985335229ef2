"""The website's browser tests: Playwright for Python driving Debian's chromium (Playwright cannot download its
own browsers here; `python3 dev.py test` installs the system package when it is missing), against the real app in
a live server thread, the Authentica and Moyasar fakes on loopback, and the real job worker (`run_jobs`).

Fixtures (import them into a conftest or a test module):

- `web`: the running stack: `web.url("/b/noor-salon")`, `web.run_jobs()`, `web.otp_code(phone)`,
  `web.moyasar` and `web.authentica` (the fakes), `web.now` (the pinned moment), `web.today`.
- `open_page(size="phone"|"desktop", lang="ar"|"en", javascript=True)`: a fresh browser context and page.
- `demo`: the demo data (`seed_demo`, relative to the pinned today).

Helpers: `sign_in(page, web, phone)`, `assert_accessible(page)` (axe-core: no serious or critical violation),
`assert_fits(page, lang)` (the `dir` and nothing wider than the viewport), `screenshot(page, name)` (kept under
docs/screens/ when MAWID_SCREENSHOTS=1, else in the test's temporary folder).

Time is pinned (`moved_clock`: Python's and the test database's `now()`) to PINNED, a Tuesday morning in Riyadh;
dates are built from it. The browser's own clock is not used by any page.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

# Playwright's sync API runs an event loop in the test's thread; Django's ORM calls from the test body (reading
# the rows a page wrote) are still synchronous code in that thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

RIYADH = ZoneInfo("Asia/Riyadh")
PINNED = datetime(2027, 1, 12, 9, 30, tzinfo=RIYADH)  # a Tuesday, 09:30 in Riyadh
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
REPO = Path(__file__).resolve().parents[4]
SCREENS = REPO / "docs" / "screens"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    return os.environ.get("MAWID_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch arguments, pointed at the system chromium (skipped, with the reason, without)."""
    path = chromium_path()
    if path is None:
        pytest.skip("no chromium on this machine: `apt-get install chromium` (python3 dev.py test does it as root)")
    return {**browser_type_launch_args, "executable_path": path, "args": CHROMIUM_FLAGS, "headless": True}


def run_jobs_in_thread() -> None:
    """Run the due jobs in the real worker, in a thread of its own: the worker runs its own event loop, and the
    test's thread has Playwright's while the package's browser is open."""
    import threading

    from django.db import connection

    from apps.core.testing import run_jobs

    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_jobs(timeout=10.0)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=work, name="web-test-jobs")
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]


@pytest.fixture(scope="package")
def browser(browser_type_launch_args: dict[str, Any]) -> Iterator[Any]:
    """One chromium for the website's tests, closed when they are done (pytest-playwright's own is session-wide:
    its event loop would stay in the main thread for every test after these, and the job worker's could not run)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(**browser_type_launch_args)
        yield instance
        instance.close()


@dataclass
class WebStack:
    base_url: str
    authentica: Any
    moyasar: Any
    now: datetime
    pages: list[Any] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.now.date()

    def url(self, path: str) -> str:
        return self.base_url + path

    def run_jobs(self) -> None:
        run_jobs_in_thread()

    def otp_code(self, phone: str) -> str:
        """Deliver the pending code (the job) and read it from the Authentica fake."""
        self.run_jobs()
        code = self.authentica.last_code(phone)
        assert code, f"no code was sent to {phone}"
        return code


@pytest.fixture
def web(live_server, settings, authentica_fake, moyasar_fake, transactional_db) -> Iterator[WebStack]:  # noqa: ARG001
    from apps.core.testclock import moved_clock

    settings.AUTHENTICA_BASE_URL = authentica_fake.base_url
    settings.AUTHENTICA_API_KEY = authentica_fake.api_key
    settings.AUTHENTICA_READ_TIMEOUT = settings.AUTHENTICA_CONNECT_TIMEOUT = 2.0
    settings.MAWID_JOB_RETRY_BASE_SECONDS = 0.05
    settings.MOYASAR_BASE_URL = moyasar_fake.api_url
    settings.MOYASAR_SECRET_KEY = moyasar_fake.secret_key
    settings.MOYASAR_PUBLISHABLE_KEY = moyasar_fake.publishable_key
    settings.MOYASAR_WEBHOOK_SECRET = "fake-webhook-secret"
    settings.MOYASAR_LIVE = False
    settings.MOYASAR_READ_TIMEOUT = settings.MOYASAR_CONNECT_TIMEOUT = 2.0
    settings.PUBLIC_BASE_URL = live_server.url
    settings.PAYMENTS_CALLBACK_URL = f"{live_server.url}/payments/return"
    settings.ALLOWED_HOSTS = ["*"]
    moyasar_fake.configure_webhooks(url=f"{live_server.url}/api/v1/webhooks/moyasar", secret="fake-webhook-secret")
    with moved_clock(PINNED):
        yield WebStack(base_url=live_server.url, authentica=authentica_fake, moyasar=moyasar_fake, now=PINNED)


@pytest.fixture
def demo(web: WebStack) -> WebStack:
    """The demo businesses (`seed_demo`), as `python3 dev.py run` shows them, relative to the pinned today."""
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    return web


@pytest.fixture
def open_page(browser, web: WebStack) -> Iterator[Callable[..., Any]]:
    """`open_page(size="phone", lang="ar", javascript=True)` → a page in a fresh context (cookies of its own)."""
    contexts = []

    def make(size: str = "phone", lang: str = "ar", javascript: bool = True) -> Any:
        context = browser.new_context(
            viewport=SIZES[size], locale="ar-SA" if lang == "ar" else "en-US", java_script_enabled=javascript,
            base_url=web.base_url, timezone_id="Asia/Riyadh",
        )
        if lang == "en":
            from urllib.parse import urlsplit

            host = urlsplit(web.base_url).hostname
            context.add_cookies([{"name": "mawid_lang", "value": "en", "domain": host, "path": "/"}])
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        def console(message: Any) -> None:
            if message.type == "error":
                web.pages.append(("console", message.text))

        page.on("pageerror", lambda exc: web.pages.append(("pageerror", str(exc))))
        page.on("console", console)
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, web: WebStack, phone: str = "0551234567") -> None:
    """Through the pages: the phone number, the code the fake received, the session."""
    from apps.accounts.phone import normalize_phone

    if "/login" not in page.url:
        page.goto("/login")
    page.fill("input[name=phone]", phone)
    page.click("[data-testid=send-code]")
    page.wait_for_url("**/login/code**")
    page.fill("input[name=code]", web.otp_code(normalize_phone(phone)))
    page.click("[data-testid=verify-code]")
    page.wait_for_load_state()


def assert_accessible(page: Any, *, allow: tuple[str, ...] = ()) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"} and v["id"] not in allow
    ]
    assert not bad, f"{page.url}: " + "; ".join(bad)


def assert_fits(page: Any, lang: str) -> None:
    """The document's language and direction, and nothing wider than the viewport (no sideways scrolling)."""
    expected_dir = "rtl" if lang == "ar" else "ltr"
    assert page.locator("html").get_attribute("dir") == expected_dir
    assert page.locator("html").get_attribute("lang") == lang
    overflow = page.evaluate(
        "() => { const w = document.documentElement.clientWidth; return [...document.querySelectorAll('body *')]"
        ".filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.right > w + 1 || r.left < -1)"
        " && getComputedStyle(e).position !== 'fixed' && !e.closest('.date-strip, .cal-scroll, .sr-only, .skip'); })"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().left) +"
        " '..' + Math.round(e.getBoundingClientRect().right)) }"
    )
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"{page.url} scrolls sideways: {width}; {overflow}"
    assert not overflow, f"{page.url}: elements outside the viewport: {overflow}"


def screenshot(page: Any, name: str, tmp_path: Path | None = None) -> Path:
    """A full-page PNG: docs/screens/NAME.png when MAWID_SCREENSHOTS=1, else in `tmp_path`."""
    folder = SCREENS if os.environ.get("MAWID_SCREENSHOTS") == "1" else (tmp_path or Path("/tmp"))  # noqa: S108
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
