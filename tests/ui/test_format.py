"""What people read: counts with the right plural, phone numbers as they write them, enum values as words."""

import pytest

from icc_app.exchange.models import DisputeResolution, ProductType
from icc_app.ui.format import label, phone, phone_href, plural


@pytest.mark.parametrize(("count", "noun", "expected"), [
    (1, "dispensary", "1 dispensary"),
    (0, "dispensary", "0 dispensaries"),
    (2, "dispensary", "2 dispensaries"),
    (1, "offer", "1 offer"),
    (3, "offer", "3 offers"),
    (2, "day", "2 days"),  # vowel + y
    (2, "license", "2 licenses"),
    (2, "match", "2 matches"),
    (2, "person", "2 people"),
    (1204, "review", "1,204 reviews"),
    (1.5, "mile", "1.5 miles"),
    (1.0, "mile", "1 mile"),
])
def test_counts_take_the_right_plural(count, noun, expected):
    assert plural(count, noun) == expected


def test_an_explicit_plural_wins():
    assert plural(2, "COA", "COAs") == "2 COAs"
    assert plural(1, "COA", "COAs") == "1 COA"


@pytest.mark.parametrize(("raw", "expected"), [
    ("2065550123", "(206) 555-0123"),
    ("206-555-0123", "(206) 555-0123"),
    ("+1 206.555.0123", "(206) 555-0123"),
    ("1 (206) 555 0123", "(206) 555-0123"),
    ("206-555-0123 ext 12", "(206) 555-0123 ext. 12"),
    ("206 555 0123 x7", "(206) 555-0123 ext. 7"),
    ("  555-0123 ", "555-0123"),  # not a full US number: as typed, trimmed
    ("+44 20 7946 0958", "+44 20 7946 0958"),  # another country: untouched
    ("", ""),
    (None, ""),
])
def test_phone_numbers_read_as_people_write_them(raw, expected):
    assert phone(raw) == expected


def test_phone_links_dial_us_numbers_only():
    assert phone_href("(206) 555-0123") == "tel:+12065550123"
    assert phone_href("1-206-555-0123 ext 4") == "tel:+12065550123"
    assert phone_href("555-0123") == ""
    assert phone_href(None) == ""


@pytest.mark.parametrize(("value", "expected"), [
    ("partial_refund", "Partial refund"),
    (DisputeResolution.no_action, "No action"),
    (ProductType.pre_roll, "Pre-roll"),
    ("testing_lab", "Testing lab"),
    ("in_transit", "In transit"),
    ("net_30", "Net 30"),
    ("cbd", "CBD"),
    ("cash_on_delivery", "Cash on delivery"),
    ("needs review", "Needs review"),
    ("verified", "Verified"),
    (None, ""),
    ("", ""),
])
def test_enum_values_become_words(value, expected):
    assert label(value) == expected


def test_times_are_shown_in_the_business_zone_with_its_name():
    from datetime import UTC, datetime

    from icc_app.ui.format import local_time

    winter = datetime(2026, 12, 2, 3, 28, tzinfo=UTC)
    assert local_time(winter) == "2026-12-01 20:28 MST"  # TIMEZONE defaults to America/Denver
    assert local_time(datetime(2026, 7, 4, 18, 0, 5, tzinfo=UTC), seconds=True) == "2026-07-04 12:00:05 MDT"
    assert local_time(winter, zone="America/Los_Angeles") == "2026-12-01 19:28 PST"
    assert local_time(winter.replace(tzinfo=None)) == "2026-12-01 20:28 MST"  # naive values are UTC
    assert local_time(None) == "—"
