import uuid

import pytest

from apps.payments.providers.base import redact_card_data


@pytest.mark.parametrize(
    "text",
    ["f31aeb00-4982-4407-8941-965096ee86ef", "http://fake/_fake/3ds/f31aeb00-4982-4407-8941-965096ee86ef"],
)
def test_uuids_and_urls_are_never_mistaken_for_card_numbers(text):
    assert redact_card_data({"id": text, "source": {"transaction_url": text}}) == {
        "id": text, "source": {"transaction_url": text}
    }


def test_no_random_uuid_is_masked():
    for _ in range(5000):
        value = str(uuid.uuid4())
        assert redact_card_data(value) == value


@pytest.mark.parametrize("pan", ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111"])
def test_card_numbers_in_free_text_are_masked(pan):
    redacted = redact_card_data({"message": f"card {pan} declined", "number": pan})
    assert pan not in str(redacted)
    assert redacted["number"] == "XXXX-XXXX-XXXX-1111"
