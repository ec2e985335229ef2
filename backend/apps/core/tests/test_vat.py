"""VAT arithmetic in halalas (apps/core/vat.py; shared/specs/zatca.md: half-up, the VAT-inclusive price trap)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings

from apps.core import vat


@pytest.mark.parametrize(
    ("net", "expected"),
    [(0, 0), (1, 0), (3, 0), (4, 1), (10, 2), (870, 131), (869, 130), (8609, 1291), (10000, 1500), (33, 5)],
)
def test_vat_of_net_rounds_half_up(net, expected):
    # 3 * 15 % = 0.45 -> 0; 10 * 15 % = 1.5 -> 2; 870 * 15 % = 130.5 -> 131 (half-up; half-even would give 130)
    assert vat.vat_of_net(net) == expected


@pytest.mark.parametrize(
    ("gross", "net", "tax", "charged"),
    [
        (9900, 8609, 1291, 9900),  # 99.00 works (the spec's example)
        (11500, 10000, 1500, 11500),
        (1000, 869, 130, 999),  # 10.00 cannot be reached: 8.70 + 1.31 = 10.01, 8.69 + 1.30 = 9.99 -> the lower
        (3500, 3043, 456, 3499),  # 35.00 -> 34.99 (the spec)
        (0, 0, 0, 0),
    ],
)
def test_split_gross_gives_the_invoice_total_nearest_the_price(gross, net, tax, charged):
    split = vat.split_gross(gross)
    assert (split.net, split.vat, split.gross) == (net, tax, charged)
    assert split.net + split.vat == split.gross
    assert vat.vat_of_net(split.net) == split.vat


def test_131_whole_riyal_prices_up_to_1000_cannot_be_reached():
    unreachable = [r for r in range(1, 1001) if not vat.reachable(r * 100)]
    assert len(unreachable) == 131
    assert 10 in unreachable
    assert 35 in unreachable
    assert 99 not in unreachable


def test_every_split_adds_up_and_is_within_a_halala():
    for gross in range(0, 20_000, 7):
        split = vat.split_gross(gross)
        assert split.net + split.vat == split.gross
        assert abs(split.gross - gross) <= 1
        assert split.vat == vat.vat_of_net(split.net)


def test_nearest_reachable_brackets_an_unreachable_price():
    assert vat.nearest_reachable(1000) == (999, 1001)
    assert vat.nearest_reachable(9900) == (9900, 9900)


def test_a_part_moves_a_reachable_amount_never_above_the_whole():
    whole = vat.split_gross(11500)
    assert vat.split_part(11500, whole) == whole
    part = vat.split_part(1000, whole)  # 10.00 -> 10.01 (in the customer's favour)
    assert part.gross == 1001
    assert part.net + part.vat == part.gross
    assert vat.split_part(0, whole).gross == 0
    with pytest.raises(ValueError):
        vat.split_part(11501, whole)


def test_the_rate_follows_its_effective_dates():
    with override_settings(MAWID_VAT_RATES="2018-01-01:500,2020-07-01:1500"):
        assert vat.rate_on(date(2017, 12, 31)) == 0
        assert vat.rate_on(date(2019, 5, 1)) == 500
        assert vat.rate_on(date(2020, 7, 1)) == 1500
    assert vat.rate_on(date(2026, 12, 4)) == 1500


def test_bad_rate_settings_are_refused():
    with pytest.raises(ValueError):
        vat.parse_rates("")
    with pytest.raises(ValueError):
        vat.parse_rates("2020-07-01:20000")


def test_a_split_that_does_not_add_up_cannot_exist():
    with pytest.raises(ValueError):
        vat.VatSplit(net=100, vat=15, gross=116, rate_bps=1500)
