"""Command line of loyalty (`python -m icc_app.cli loyalty ...`): the nightly work by hand, and demo data."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import typer
from sqlmodel import select

app = typer.Typer(no_args_is_help=True, help="Loyalty and CRM.")


@app.callback()
def _models() -> None:
    """Every product's tables, so foreign keys to them resolve (POS connections point at dispensaries)."""
    import icc_app.core.registry  # noqa: F401


@app.command("compute")
def compute(business_id: str = typer.Option("", help="One business (default: every business with customers).")):
    """Link POS customers, score everyone, snapshot segment counts (what loyalty.compute_segments runs nightly)."""
    from icc_app.loyalty.tasks import compute_segments

    typer.echo(f"scored {compute_segments(business_id or None)} business(es)")


@app.command("send-due")
def send_due():
    """Draw campaigns whose send time has come and send their due messages (loyalty.send_due, every minute)."""
    from icc_app.loyalty.tasks import send_due as task

    typer.echo(f"{task()} campaign(s) handled")


@app.command("attribute")
def attribute():
    """Count purchases after each send as conversions (loyalty.attribute, hourly)."""
    from icc_app.loyalty.tasks import attribute as task

    typer.echo(f"{task()} new conversion(s)")


@app.command("demo")
def demo(business: str = typer.Option("Capitol Hill Cannabis Inc", help="Legal name of the business."),
         customers: int = typer.Option(450, min=1, max=5000, help="450+ gives the store its own churn model."),
         seed: int = 7,
         quiet_hours: str = typer.Option("21-9", help="No messages between these local hours; 0-0 for none.")):
    """Demo customers for a business: a POS connection, customers with consent and a year of sales, then scores."""
    from icc_app.core.db import unit_of_work
    from icc_app.identity.models import Business
    from icc_app.integrations.models import Connection, PosCustomer, Sale
    from icc_app.loyalty import customers as customer_service
    from icc_app.loyalty import points, scoring

    rng = random.Random(seed)
    first_names = ["Alex", "Sam", "Jordan", "Taylor", "Casey", "Riley", "Morgan", "Jamie", "Avery", "Quinn"]
    with unit_of_work() as session:
        shop = session.exec(select(Business).where(Business.legal_name == business)).first()
        if shop is None:
            raise typer.BadParameter(f"no business named {business!r}")
        start, _, end = quiet_hours.partition("-")
        points.update_program(session, business_id=shop.id, actor_id=None, quiet_start_hour=int(start),
                              quiet_end_hour=int(end or 0))
        conn = Connection(business_id=shop.id, vendor="dutchie", name="Demo POS", base_url="http://pos.demo",
                          credentials="{}")
        session.add(conn)
        session.flush()
        today = datetime.now(UTC).replace(hour=19, minute=0, second=0, microsecond=0)
        for i in range(customers):
            under_age = i % 25 == 24
            pos = PosCustomer(business_id=shop.id, connection_id=conn.id, external_ref=uuid.uuid4().hex,
                              name=f"{first_names[i % 10]} Demo{i}", email=f"customer{i}@demo.test",
                              phone=f"+1206555{i:04d}", birth_date="2009-02-01" if under_age else "1989-02-01",
                              customer_type="medical" if i % 7 == 0 else "recreational", email_opt_in=i % 5 != 0,
                              sms_opt_in=i % 3 != 0, state=shop.state, content_hash=str(i))
            session.add(pos)
            session.flush()
            person = customer_service.link_pos_customer(session, pos_customer=pos)
            gap, stop = rng.choice([7, 14, 30, 60]), rng.choice([0, 0, 0, 45, 120, 240])
            sales = [Sale(business_id=shop.id, connection_id=conn.id, external_id=uuid.uuid4().hex,
                          occurred_at=today - timedelta(days=d), customer_ref=pos.external_ref,
                          total=Decimal(rng.randrange(25, 140)), subtotal=Decimal(0))
                     for d in range(stop + rng.randrange(gap), 365, gap)]
            session.add_all(sales)
            session.flush()
            for sale in sales[:3]:  # points for the latest visits (enough to show balances)
                points.earn_for_sale(session, customer=person, sale=sale)
        business_id = shop.id
    with unit_of_work() as session:
        run = scoring.compute(session, business_id=business_id, today=date.today())
    typer.echo(f"{customers} demo customers for {business}; model: {run.trained_on}")
