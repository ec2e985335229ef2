"""My data in a real browser: the section on my bookings (Arabic and English, phone size, accessible, nothing
sideways) and the link that downloads the person's data as a JSON file (docs/privacy.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.web.tests.browser import assert_accessible, assert_fits, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_my_bookings_offers_my_data_as_a_file(web, open_page, lang):
    page = open_page(size="phone", lang=lang)
    sign_in(page, web, "0551239001")
    page.goto("/my/bookings")
    section = page.get_by_test_id("my-data")
    assert section.is_visible()
    assert_fits(page, lang)
    assert_accessible(page)
    with page.expect_download() as download:
        section.get_by_role("link").click()
    assert download.value.suggested_filename.startswith("mawid-my-data-")
    document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert document["format"] == "mawid.personal-data"
    assert document["profile"][0]["phone"] == "+966551239001"
