"""What exchange pages show people: words instead of enum values, and the COA's sample name beside the strain."""

import uuid
from decimal import Decimal

from icc_app.exchange.lots import StrainCheck, strain_check
from icc_app.exchange.models import Dispute, Lot, LotStatus
from icc_app.exchange.read_models import dispute_read, lot_card, lot_detail
from icc_app.labs.models import CoaDocument
from icc_app.quality.schemas import component_read


def _lot(**overrides) -> Lot:
    values = dict(id=uuid.uuid4(), business_id=uuid.uuid4(), title="Pre-rolls", product_type="pre_roll",
                  strain_name="Granddaddy Purple", strain_type="cbd", quantity=Decimal("10"),
                  available_qty=Decimal("10"), min_order_qty=Decimal("1"), unit="units", price_per_unit=Decimal("4"),
                  status=LotStatus.sold_out)
    values.update(overrides)
    return Lot(**values)


def test_enum_values_read_as_words():
    card = lot_card(_lot(), "Evergreen Farms", None)
    assert card.type == "Pre-roll" and card.strain.endswith("CBD")
    detail = lot_detail(_lot(), "Evergreen Farms", StrainCheck("", None))
    assert detail.status_label == "Sold out" and not detail.strain_mismatch
    dispute = dispute_read(Dispute(order_id=uuid.uuid4(), opened_by_business_id=uuid.uuid4(), reason="quantity_short",
                                   description="x", resolution="partial_refund", status="resolved"))
    assert (dispute.reason, dispute.resolution, dispute.status_label) == ("Quantity short", "Partial refund",
                                                                          "Resolved")


def test_the_coa_sample_name_is_compared_with_the_lot_strain():
    lot = _lot()
    same = strain_check(lot, CoaDocument(sample_name="GRANDDADDY PURPLE - Flower (Lot 7)"))
    other = strain_check(lot, CoaDocument(sample_name="Blue Dream"))
    assert same == StrainCheck("GRANDDADDY PURPLE - Flower (Lot 7)", True)
    assert other.matches is False and strain_check(lot, CoaDocument(sample_name=None)).matches is None
    shown = lot_detail(lot, "Evergreen Farms", other)
    assert shown.coa_sample == "Blue Dream" and shown.strain_mismatch


def test_cqi_bars_get_a_number_from_0_to_100():
    row = component_read({"name": "safety", "score": 36.4, "weight": 0.25})
    assert (row.score, row.percent, row.weight) == ("36", 36, "25%")
    assert component_read({"name": "x", "score": 100.0, "weight": 0.1}).percent == 100
    assert component_read({"name": "x", "score": 0.2, "weight": 0.1}).percent == 0
