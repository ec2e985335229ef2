"""In a real browser: signing in by phone and code, at phone and desktop size, in Arabic and English; the pages
pass axe-core and fit the screen in their direction; the language switch is one tap and remembered."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.web.tests.browser import assert_accessible, assert_fits, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_sign_in_by_phone_and_code(web, open_page, size, lang):
    page = open_page(size=size, lang=lang)
    page.goto("/login")
    assert_fits(page, lang)
    assert_accessible(page)
    sign_in(page, web, "0551234567")
    assert page.url.endswith("/my/bookings")
    assert page.get_by_role("button", name="Sign out" if lang == "en" else "تسجيل الخروج").is_visible()
    assert User.objects.filter(phone="+966551234567").exists()
    assert not web.pages, web.pages  # no script error, no refused resource


def test_a_wrong_code_is_explained_on_the_page(web, open_page):
    page = open_page(lang="en")
    page.goto("/login")
    page.fill("input[name=phone]", "0551234567")
    page.click("[data-testid=send-code]")
    code = web.otp_code("+966551234567")
    page.fill("input[name=code]", "000000" if code != "000000" else "111111")
    page.click("[data-testid=verify-code]")
    assert "/login/code" in page.url
    assert page.get_by_test_id("error").is_visible()
    assert_accessible(page)


def test_the_language_switch_is_one_tap_and_remembered(web, open_page):
    page = open_page(lang="ar")
    page.goto("/login")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.get_by_test_id("lang-switch").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.url.endswith("/login")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"
