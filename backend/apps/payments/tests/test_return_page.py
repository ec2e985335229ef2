"""`GET /payments/return?id=...` is anonymous: it must not let anyone make us call Moyasar at will."""

from __future__ import annotations

import uuid

import pytest

from apps.payments.models import Payment
from apps.payments.tests.conftest import return_to, three_ds

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]


def test_ids_that_are_not_ours_never_reach_moyasar(fake, browser, settings):
    settings.PAYMENTS_RETURN_THROTTLE = "1000/min"
    # when: 60 anonymous requests with made-up ids
    answers = [browser.get(f"/payments/return?id={uuid.uuid4()}&status=paid").status_code for _ in range(60)]
    # then: each is a 404 and Moyasar was never asked
    assert set(answers) == {404}
    assert fake.calls() == []


def test_the_return_page_is_rate_limited_per_client(fake, book, pay, browser, settings):
    # given: a real payment waiting for 3-D Secure (each visit asks Moyasar about it)
    settings.PAYMENTS_RETURN_THROTTLE = "5/min"
    booking = book("10:00")
    payment_id = pay(booking["id"]).json()["id"]
    reference = Payment.objects.get(pk=payment_id).provider_id
    fetches = len(fake.calls("fetch"))
    # when
    answers = [browser.get(f"/payments/return?id={reference}", HTTP_ACCEPT="application/json") for _ in range(8)]
    # then: five answered, the rest refused with Retry-After, and only five questions to Moyasar
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
    assert answers[-1].json()["error"]["code"] == "throttled"
    assert int(answers[-1]["Retry-After"]) >= 1
    assert len(fake.calls("fetch")) - fetches == 5
    # and another client is not held back
    other = browser.get(f"/payments/return?id={reference}", HTTP_ACCEPT="application/json", REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 200


def test_a_payment_that_can_no_longer_change_is_shown_without_asking_moyasar(fake, book, pay, browser):
    booking = book("10:00")
    location = three_ds(pay(booking["id"]).json()["transaction_url"], "reject")
    assert return_to(browser, location)["outcome"] == "failed"
    fetches = len(fake.calls("fetch"))
    # when: the payer reloads the page
    again = return_to(browser, location)
    # then
    assert (again["outcome"], again["status"]) == ("failed", "failed")
    assert len(fake.calls("fetch")) == fetches
