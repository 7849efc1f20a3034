"""Review rules: consumers 21+ only, one review per consumer and item (editing it), known effect tags, reports
hide abuse for moderators, the dispensary replies, and the aggregate effect profile follows."""

from datetime import date

import pytest
from sqlmodel import select

from icc_app.core.db import pending_tasks, unit_of_work
from icc_app.core.errors import Conflict, PermissionDenied, ValidationFailed
from icc_app.identity import service as identity
from icc_app.identity.accounts import sign_up_consumer
from icc_app.identity.models import User
from icc_app.maps import reviews
from icc_app.maps.models import Dispensary, Review
from tests.factories import PASSWORD, make_user


def _consumer(session, handle: str):
    user = sign_up_consumer(session, email=f"{handle}@example.test", password=PASSWORD, handle=handle,
                            birth_date=date(1990, 1, 1))
    return identity.build_principal(session, user)


@pytest.fixture()
def place(connection):
    with unit_of_work() as session:
        dispensary = Dispensary(name="Review Me", license_number="477777", state="WA", latitude=47.6,
                                longitude=-122.3, slug="review-me-477777")
        session.add(dispensary)
        session.flush()
        fans = [_consumer(session, f"fan_{i}") for i in range(3)]
    return dispensary, fans


def test_one_review_per_consumer_editable_and_aggregated(place):
    dispensary, (ana, bo, cy) = place
    with unit_of_work() as session:
        reviews.write(session, principal=ana, target_type="dispensary", target_id=dispensary.id, rating=5,
                      effects=["Relaxed", "happy"], text="Great staff")
        assert ("maps.aggregate_reviews", "dispensary") == (pending_tasks(session)[-1].name,
                                                            pending_tasks(session)[-1].args[0])
        reviews.write(session, principal=bo, target_type="dispensary", target_id=dispensary.id, rating=3,
                      effects=["relaxed", "dry mouth"])
        edited = reviews.write(session, principal=ana, target_type="dispensary", target_id=dispensary.id, rating=4,
                               effects=["relaxed"])
        summary = reviews.aggregate(session, "dispensary", dispensary.id)
        count = len(session.exec(select(Review).where(Review.target_id == dispensary.id)).all())
    assert count == 2 and edited.rating == 4  # the second write edited the first review
    assert summary.count == 2 and summary.rating == 3.5
    assert summary.effects == {"relaxed": 1.0, "dry mouth": 0.5}


@pytest.mark.parametrize(("rating", "effects", "message"), [(6, [], "1 to 5"), (4, ["flying"], "Unknown effect")])
def test_bad_reviews_are_refused(place, rating, effects, message):
    dispensary, (ana, _, _) = place
    with pytest.raises(ValidationFailed, match=message), unit_of_work() as session:
        reviews.write(session, principal=ana, target_type="dispensary", target_id=dispensary.id, rating=rating,
                      effects=effects)


def test_only_adult_consumers_review(place):
    dispensary, _ = place
    with unit_of_work() as session:
        operator = identity.build_principal(session, make_user(session))
        minor = _consumer(session, "young_one")
        user = session.get(User, minor.user_id)
        user.birth_date = date(date.today().year - 19, 1, 1).isoformat()  # e.g. a data fix-up
        session.add(user)
    with pytest.raises(PermissionDenied, match="consumer account"), unit_of_work() as session:
        reviews.write(session, principal=operator, target_type="dispensary", target_id=dispensary.id, rating=5, effects=[])
    with pytest.raises(ValidationFailed, match="21 or older"), unit_of_work() as session:
        reviews.write(session, principal=minor, target_type="dispensary", target_id=dispensary.id, rating=5, effects=[])


def test_reports_hide_a_review_until_a_moderator_decides(place):
    dispensary, (ana, bo, cy) = place
    with unit_of_work() as session:
        review = reviews.write(session, principal=ana, target_type="dispensary", target_id=dispensary.id, rating=1,
                               effects=["anxious"], text="spam spam")
        admin = identity.build_principal(session, make_user(session, is_platform_admin=True))
    with pytest.raises(Conflict), unit_of_work() as session:
        reviews.report(session, principal=ana, review_id=review.id, reason="my own")
    with unit_of_work() as session:
        reviews.report(session, principal=bo, review_id=review.id, reason="advertising")
    for _ in range(2):  # one person cannot hide a review by reporting it again and again
        with pytest.raises(Conflict, match="already reported"), unit_of_work() as session:
            reviews.report(session, principal=bo, review_id=review.id, reason="advertising again")
    with unit_of_work() as session:
        assert session.get(Review, review.id).status == "published" and session.get(Review, review.id).reports == 1
    for who in (cy, admin):
        with unit_of_work() as session:
            hidden = reviews.report(session, principal=who, review_id=review.id, reason="advertising")
    assert hidden.status == "hidden"
    with unit_of_work() as session:
        assert [r.id for r in reviews.moderation_queue(session, principal=admin)] == [review.id]
        assert reviews.aggregate(session, "dispensary", dispensary.id).count == 0  # hidden reviews do not count
        restored = reviews.moderate(session, principal=admin, review_id=review.id, publish=True, note="fine after all")
    assert restored.status == "published" and restored.reports == 0


def test_the_dispensary_replies_publicly_and_nobody_else_can(place):
    from icc_app.core.errors import NotFound
    from icc_app.identity.models import BusinessType
    from icc_app.maps import menus
    from tests.factories import make_business, verified_license

    dispensary, (ana, _, _) = place
    with unit_of_work() as session:
        owner = make_user(session)
        business = make_business(session, owner=owner, business_type=BusinessType.retailer)
        verified_license(session, business, number="477777")
        staff = identity.build_principal(session, owner)
        menus.claim(session, principal=staff, business_id=business.id, dispensary_id=dispensary.id)
        review = reviews.write(session, principal=ana, target_type="dispensary", target_id=dispensary.id, rating=2,
                               effects=["headache"], text="Long wait")
        stranger = identity.build_principal(session, make_user(session))
    with pytest.raises(NotFound), unit_of_work() as session:
        reviews.reply(session, principal=stranger, review_id=review.id, text="Sorry!")
    with unit_of_work() as session:
        answered = reviews.reply(session, principal=staff, review_id=review.id, text="We added a second register.")
    assert answered.reply == "We added a second register."


def _events(session, review_id):
    from icc_app.core.audit import AuditLog

    rows = session.exec(select(AuditLog).where(AuditLog.object_type == "review", AuditLog.object_id == str(review_id),
                                               AuditLog.action.in_(["maps.review.hide", "maps.review.publish",
                                                                    "maps.review.hide_after_reports"]))
                        .order_by(AuditLog.id)).all()
    return [(r.action.rsplit(".", 1)[1], r.before["status"], r.after["status"], r.after["why"]) for r in rows]


def test_review_status_changes_only_by_transitions_with_an_event_row(place):
    dispensary, (ana, bo, _) = place
    with unit_of_work() as session:
        admin = identity.build_principal(session, make_user(session, is_platform_admin=True))
        review = reviews.write(session, principal=ana, target_type="dispensary", target_id=dispensary.id, rating=2,
                               effects=[], text="meh")
        with pytest.raises(PermissionDenied):  # a consumer is not a moderator
            reviews.transition(session, review, "hide", principal=bo, why="I disagree")
        reviews.moderate(session, principal=admin, review_id=review.id, publish=False, note="insults staff")
        assert review.status == reviews.ReviewStatus.hidden
        with pytest.raises(Conflict, match="hidden review cannot be hidden again"):
            reviews.transition(session, review, "hide", principal=admin, why="again")
        reviews.moderate(session, principal=admin, review_id=review.id, publish=True, note="fine after an appeal")
        events = _events(session, review.id)
    assert events == [("hide", "published", "hidden", "insults staff"),
                      ("publish", "hidden", "published", "fine after an appeal")]
    with pytest.raises(ValueError), unit_of_work() as session:
        reviews.transition(session, session.get(Review, review.id), "delete", principal=admin, why="")


def test_own_review_comes_back_for_editing(place):
    dispensary, (ana, bo, _) = place
    with unit_of_work() as session:
        assert reviews.own(session, principal=ana, target_type="dispensary", target_id=dispensary.id) is None
        reviews.write(session, principal=ana, target_type="dispensary", target_id=dispensary.id, rating=4,
                      effects=["sleepy", "relaxed"], text="Calm shop")
        mine = reviews.own(session, principal=ana, target_type="dispensary", target_id=dispensary.id)
        theirs = reviews.own(session, principal=bo, target_type="dispensary", target_id=dispensary.id)
    assert (mine.rating, mine.effects, mine.text, mine.status, mine.stars) == (
        4, ["relaxed", "sleepy"], "Calm shop", "Published", "★★★★☆")
    assert theirs is None


def test_hostile_review_text_is_refused(place):
    dispensary, (ana, bo, _) = place
    with pytest.raises(ValidationFailed, match="NUL"), unit_of_work() as session:
        reviews.write(session, principal=ana, target_type="dispensary", target_id=dispensary.id, rating=4,
                      effects=[], text="fine\x00")
    with pytest.raises(ValidationFailed, match="At most 5000"), unit_of_work() as session:
        reviews.write(session, principal=ana, target_type="dispensary", target_id=dispensary.id, rating=4,
                      effects=[], text="x" * 5001)
    with unit_of_work() as session:
        review = reviews.write(session, principal=ana, target_type="dispensary", target_id=dispensary.id, rating=4,
                               effects=[], text="fine")
    with pytest.raises(ValidationFailed, match="NUL"), unit_of_work() as session:
        reviews.report(session, principal=bo, review_id=review.id, reason="spam\x00spam")
