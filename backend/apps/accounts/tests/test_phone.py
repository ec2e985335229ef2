import pytest

from apps.accounts.phone import InvalidPhone, normalize_phone


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0501234567", "+966501234567"),
        ("501234567", "+966501234567"),
        ("+966 50 123 4567", "+966501234567"),
        ("+966501234567", "+966501234567"),
        ("966501234567", "+966501234567"),
        ("00966501234567", "+966501234567"),
        ("  050-123-4567 ", "+966501234567"),
        ("(050) 123 4567", "+966501234567"),
        ("+971 50 123 4567", "+971501234567"),
        ("00971501234567", "+971501234567"),
        ("+44 7911 123456", "+447911123456"),
        ("+1 (202) 555-0123", "+12025550123"),
        ("+20 100 123 4567", "+201001234567"),
        ("٠٥٠١٢٣٤٥٦٧", "+966501234567"),  # Arabic-Indic digits, as typed on an Arabic keyboard
    ],
)
def test_phone_forms_people_type_are_normalized_to_e164(typed, expected):
    assert normalize_phone(typed, region="SA") == expected


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   ",
        "abc",
        "12",
        "05012",
        "0501234567890123",
        "+966 12",
        "+999123456789",
        "not-a-phone",
        "05O1234567",
        "+966 50 123 4567 999",
    ],
)
def test_junk_is_refused(junk):
    with pytest.raises(InvalidPhone):
        normalize_phone(junk, region="SA")


def test_a_landline_is_refused_where_a_mobile_is_needed():
    assert normalize_phone("0112345678", region="SA") == "+966112345678"
    with pytest.raises(InvalidPhone):
        normalize_phone("0112345678", region="SA", mobile_only=True)
