"""Pure rules: age by state, health claims and disclaimers, quiet hours across time zones and DST."""

from datetime import UTC, date, datetime

import pytest

from icc_app.core.errors import ValidationFailed
from icc_app.loyalty import rules

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(("birth", "state", "kind", "expected"), [
    ("2005-12-02", "CO", "recreational", "enrolled"),  # 21 today
    ("2005-12-03", "CO", "recreational", "under_age"),  # 21 tomorrow
    ("2008-01-01", "CO", "medical", "enrolled"),  # 18, medical, Colorado admits 18+ patients
    ("2008-01-01", "CO", "recreational", "under_age"),
    ("2008-01-01", "ID", "medical", "under_age"),  # a state not on the 18+ list keeps 21
    ("2009-06-01", "CO", "medical", "under_age"),  # 17
    (None, "CO", "recreational", "age_unknown"),  # no birth date: cannot prove age, not enrolled
    ("not a date", "CO", "recreational", "age_unknown"),
    ("2030-01-01", "CO", "recreational", "age_unknown"),
])
def test_age_rule(birth, state, kind, expected):
    assert rules.enrollment_for(birth, state=state, customer_type=kind, today=TODAY) == expected


def test_health_claims_are_found_and_refused():
    assert rules.health_claims("This tincture cures insomnia and treats pain") == ["cures", "treats"]
    assert rules.health_claims("Relieves anxiety, doctor recommended") == ["doctor recommended", "relieves anxiety"]
    assert rules.health_claims("20% off gummies this Friday, {first_name}!") == []
    with pytest.raises(ValidationFailed, match="cures"):
        rules.check_content("Our new strain cures everything")


def test_required_disclaimer_and_stop_footer_are_appended_once():
    sms = rules.with_required_text("Double points today!", state="WA", channel="sms")
    assert rules.STATE_DISCLAIMERS["WA"] in sms and sms.endswith("Reply STOP to opt out.")
    assert rules.with_required_text(sms, state="WA", channel="sms") == sms  # already there: not repeated
    email = rules.with_required_text("Hello", state="ZZ", channel="email")
    assert email == "Hello\n" + rules.DEFAULT_DISCLAIMER


@pytest.mark.parametrize(("utc", "tz", "expected_utc"), [
    # 20:00 in Denver (03:00Z next day) is before 21:00: sent at once
    (datetime(2026, 12, 3, 3, 0, tzinfo=UTC), "America/Denver", datetime(2026, 12, 3, 3, 0, tzinfo=UTC)),
    # 22:30 in New York (03:30Z): held until 09:00 New York = 14:00Z
    (datetime(2026, 12, 3, 3, 30, tzinfo=UTC), "America/New_York", datetime(2026, 12, 3, 14, 0, tzinfo=UTC)),
    # the same instant is 19:30 in Los Angeles: sent at once
    (datetime(2026, 12, 3, 3, 30, tzinfo=UTC), "America/Los_Angeles", datetime(2026, 12, 3, 3, 30, tzinfo=UTC)),
    # 07:00 in Honolulu (17:00Z): held until 09:00 Honolulu = 19:00Z, same day
    (datetime(2026, 12, 3, 17, 0, tzinfo=UTC), "Pacific/Honolulu", datetime(2026, 12, 3, 19, 0, tzinfo=UTC)),
    # the night the clocks go back (Nov 1 2026, New York): 23:00 EDT Oct 31 -> 09:00 EST Nov 1 = 14:00Z
    (datetime(2026, 11, 1, 3, 0, tzinfo=UTC), "America/New_York", datetime(2026, 11, 1, 14, 0, tzinfo=UTC)),
    # an unknown zone falls back to the platform default (Denver): 02:00 Denver -> 09:00 Denver = 16:00Z
    (datetime(2026, 12, 3, 9, 0, tzinfo=UTC), "Mars/Olympus", datetime(2026, 12, 3, 16, 0, tzinfo=UTC)),
])
def test_quiet_hours_in_the_customers_zone(utc, tz, expected_utc):
    assert rules.next_allowed(utc, tz=tz, quiet_start=21, quiet_end=9) == expected_utc


def test_quiet_hours_that_do_not_wrap_midnight_and_none():
    at = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)  # 13:00 Denver
    assert rules.next_allowed(at, tz="America/Denver", quiet_start=12, quiet_end=14) == datetime(
        2026, 12, 3, 21, 0, tzinfo=UTC)
    assert rules.next_allowed(at, tz="America/Denver", quiet_start=0, quiet_end=0) == at


def test_phone_numbers_normalise_to_one_hash():
    assert rules.normalize_phone("(303) 555-0100") == "+13035550100"
    assert rules.contact_hash("phone", "303.555.0100") == rules.contact_hash("phone", "+1 303 555 0100")
    assert rules.contact_hash("email", " Pat@Example.TEST ") == rules.contact_hash("email", "pat@example.test")
    assert not rules.valid_phone("555-01")
