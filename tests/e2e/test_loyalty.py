"""Loyalty in a real browser: an operator sees customers by segment, builds a segment from rules (live count), writes a
campaign, previews it (the state's disclaimer is added), schedules it, the sender runs (as the beat would), and the
delivery stats show what went out; the churn list shows its reasons next to the recency rule. Desktop and phone."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import live_cli, shot
from tests.e2e.test_shell import sign_in

pytestmark = pytest.mark.e2e


def test_operator_builds_a_segment_previews_schedules_and_sees_delivery(page, live_app, mailbox):
    live_cli("loyalty", "demo", "--business", "Capitol Hill Cannabis Inc", "--customers", "450",
             "--quiet-hours", "0-0")  # the test runs at any hour: no quiet hours, so the send is not deferred
    sign_in(page, "buyer@icc.demo")
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.goto("/loyalty")
    expect(page.get_by_role("heading", name="Loyalty", exact=True)).to_be_visible()
    expect(page.locator(".segment-card")).to_have_count(6)
    expect(page.locator(".segment-card").filter(has_text="Lost")).to_be_visible()

    # build a segment: customers whose last purchase was more than 30 days ago
    page.locator("#rule-value").fill("30")
    page.locator("#add-rule").click()
    expect(page.locator(".segment-rule")).to_have_text("Days since last purchase more than 30")
    expect(page.locator("#segment-count")).to_contain_text(re.compile(r"\d+ customers? match now"))
    page.locator("#segment-name").fill("Not seen for a month")
    page.locator("#save-segment").click()
    expect(page.locator(".custom-segment").filter(has_text="Not seen for a month")).to_be_visible()
    page.set_viewport_size({"width": 1440, "height": 900})
    shot(page, "loyalty-segments-1440")

    # a campaign to that segment: a health claim is refused, the preview shows the text as sent
    page.goto("/loyalty/campaigns")
    expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()
    page.locator("#campaign-name").fill("Come back this week")
    page.locator("#campaign-segment").click()
    page.get_by_role("option", name="Not seen for a month").click()
    page.locator("#campaign-subject").fill("{first_name}, we miss you")
    page.locator("#campaign-body_a").fill("This strain treats insomnia.")
    page.locator("#preview-campaign").click()
    expect(page.get_by_text(re.compile("Remove health claims"))).to_be_visible()
    page.locator("#campaign-body_a").fill("Hi {first_name}, you have {points} points. 10% off this week.")
    page.locator("#save-template").click()  # kept for next time: the editor offers it as a starting point
    expect(page.get_by_text('Template "Come back this week" saved.').first).to_be_visible()
    expect(page.locator("#campaign-template")).to_be_visible()
    page.locator("#preview-campaign").click()
    expect(page.locator(".campaign-preview")).to_contain_text("points. 10% off this week.")
    expect(page.locator(".campaign-preview")).to_contain_text("intoxicating effects")  # Washington's disclaimer
    expect(page.locator("#preview-audience")).to_contain_text("in this segment now")
    page.locator("#schedule-campaign").click()
    row = page.locator(".campaign-row").filter(has_text="Come back this week")
    expect(row).to_contain_text("Scheduled")

    # the beat's sender runs; the operator opens the delivery stats
    live_cli("loyalty", "send-due")
    page.reload()
    row = page.locator(".campaign-row").filter(has_text="Come back this week")
    expect(row).to_contain_text("Sent")
    row.get_by_role("button", name="Delivery stats").click()
    expect(page.locator(".delivery-row").filter(has_text=re.compile(r"^Sent"))).to_be_visible()
    expect(page.locator("#campaign-lift")).to_contain_text("of the holdout group")
    shot(page, "loyalty-campaigns-1440")
    received = [m for m in mailbox.messages if "we miss you" in (m["Subject"] or "")]
    assert received and all("/api/v1/loyalty/unsubscribe?" in m["List-Unsubscribe"] for m in received)

    # who may not come back, next to the simple rules
    page.goto("/loyalty/churn")
    expect(page.get_by_role("heading", name="Who may not come back")).to_be_visible()
    expect(page.locator(".churn-row").first).to_be_visible()
    expect(page.locator("#model-comparison")).to_contain_text("days since last purchase")
    expect(page.locator(".churn-row").first).to_contain_text("(lowers the chance)")  # the reasons, in words
    shot(page, "loyalty-churn-1440")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/loyalty/campaigns")
    expect(page.locator(".campaign-row").first).to_be_visible()
    shot(page, "loyalty-campaigns-390")
    page.goto("/loyalty")
    expect(page.locator(".segment-card").first).to_be_visible()
    shot(page, "loyalty-segments-390")


def test_operator_sets_up_the_programme(page, live_app):
    from tests.e2e.a11y import describe, violations

    sign_in(page, "buyer@icc.demo")
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.goto("/loyalty")
    page.get_by_role("link", name="Programme settings").first.click()
    expect(page.get_by_role("heading", name="Programme settings", exact=True)).to_be_visible()
    expect(page.locator("#sms-status")).to_be_visible()

    # a bad value is refused next to its field; nothing is saved
    page.get_by_label("Points per dollar spent").fill("lots")
    page.locator("#save-program").click()
    expect(page.get_by_text("Points per dollar spent: enter a number.").first).to_be_visible()

    page.get_by_label("Points per dollar spent").fill("1.5")
    page.locator("#add-bonus-day").click()
    page.locator("#add-tier").click()
    tier = page.locator(".tier-row").last
    tier.get_by_label("Tier name").fill("Gold")
    tier.get_by_label("Points to reach it").fill("1000")
    tier.get_by_label("Points multiplier").fill("1.5")
    tier.get_by_label("Benefits").fill("Early access to new drops")
    page.locator("#save-program").click()
    expect(page.get_by_text("Programme saved").first).to_be_visible()

    page.reload()  # what was saved comes back
    expect(page.get_by_label("Points per dollar spent")).to_have_value("1.5")
    expect(page.locator(".tier-row").filter(has=page.locator("input[value='Gold']"))).to_have_count(1)
    expect(page.locator(".bonus-day")).to_have_count(1)
    page.set_viewport_size({"width": 1440, "height": 900})
    expect(page.locator("[data-sonner-toast]")).to_have_count(0)
    found = violations(page)
    assert not found, describe("loyalty programme", found)
    shot(page, "loyalty-program-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#save-program")).to_be_visible()
    shot(page, "loyalty-program-390")
