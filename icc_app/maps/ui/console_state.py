"""The state of the operator console (My dispensary): claim, profile and hours, the menu by hand or CSV, photos,
replies to reviews. Thin: validate, call the maps services in a unit of work, keep what the page shows."""

from __future__ import annotations

import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity.ui.state import AuthFormState
from icc_app.maps import menus, photos, reviews, service
from icc_app.maps.schemas import money
from icc_app.maps.ui.pages import DAY_LABELS
from icc_app.ui.format import label, plural
from icc_app.ui.state import toggled

CSV_UPLOAD = "menu-csv"
PHOTO_UPLOAD = "store-photo"
DRAFT_FIELDS = ["sku", "name", "brand", "category", "strain_name", "strain_type", "thc_pct", "cbd_pct", "price",
                "weight_g", "in_stock_qty", "terpenes", "lot_id"]
EMPTY_DRAFT = {f: "" for f in DRAFT_FIELDS} | {"category": "flower", "strain_type": "none", "lot_id": "none"}
PROFILE_FIELDS = ["phone", "website", "services", "hours"] + [f"{day}_{edge}" for day in DAY_LABELS
                                                              for edge in ("open", "close")]


def _draft_of(item) -> dict[str, str]:
    variant = item.variants[0] if item.variants else {}
    return {"sku": item.external_id, "name": item.name, "brand": item.brand or "", "category": item.category,
            "strain_name": item.strain_name or "", "strain_type": item.strain_type or "none",
            "thc_pct": "" if item.thc_min is None else f"{item.thc_min:g}",
            "cbd_pct": "" if item.cbd_min is None else f"{item.cbd_min:g}",
            "price": "" if item.price is None else f"{item.price:g}",
            "weight_g": f"{variant['weight_g']:g}" if variant.get("weight_g") else "",
            "in_stock_qty": str(item.in_stock_qty),
            "terpenes": "; ".join(f"{t['name']} {t['pct']:g}" for t in item.terpenes if t.get("pct") is not None),
            "lot_id": str(item.lot_id) if item.lot_id else "none"}


class MyDispensaryState(AuthFormState):
    """Per-field errors (`errors`) come from the services' ValidationFailed.field and show beside each input;
    errors without a field show as a toast."""

    loaded: bool = False
    business_id: str = ""
    stores: list[dict[str, str]] = []
    current: dict[str, str] = {}
    phone: str = ""
    website: str = ""
    services: list[str] = []
    hours: dict[str, list[str]] = {}
    photo_ids: list[str] = []
    photo_error: str = ""
    uploading: bool = False
    items: list[dict[str, str]] = []
    lots: list[dict[str, str]] = []
    draft: dict[str, str] = EMPTY_DRAFT
    review_rows: list[dict[str, str]] = []
    replies: dict[str, str] = {}
    import_errors: list[str] = []
    import_summary: str = ""
    importing: bool = False

    def _refresh(self, principal) -> None:
        business_id = menus.business_for_maps(principal)
        self.business_id = str(business_id) if business_id else ""
        if business_id is None:
            self.stores, self.current = [], {}
            return
        with unit_of_work() as session:
            found = menus.claimable(session, principal=principal, business_id=business_id)
            self.stores = [{"id": str(d.id), "name": d.dba or d.name, "license": f"{d.state} {d.license_number}",
                            "address": ", ".join(p for p in (d.street, d.city, d.state) if p),
                            "claimed": "yes" if mine else "", "href": service.page_path(d)} for d, mine in found]
            chosen = next((d for d, mine in found if mine and (not self.current or str(d.id) == self.current["id"])),
                          None)
            if chosen is None:
                self.current = {}
                return
            self.current = next(s for s in self.stores if s["id"] == str(chosen.id))
            self.phone, self.website, self.services = chosen.phone or "", chosen.website or "", list(chosen.services)
            self.hours = {day: list(chosen.hours.get(day) or ["", ""]) for day in DAY_LABELS}
            self._load_menu(session, principal, chosen.id)
            self.photo_ids = [str(p.id) for p in photos.list_for(session, chosen.id)]
            self.review_rows = [{"id": str(r.id), "about": about, "stars": "★" * r.rating, "text": r.text,
                                 "effects": " · ".join(r.effects), "reply": r.reply or ""}
                                for r, about in reviews.for_dispensary(session, principal=principal,
                                                                       dispensary_id=chosen.id)]

    def _load_menu(self, session, principal, dispensary_id: uuid.UUID) -> None:
        self.items = [{"id": str(i.id), "sku": i.external_id, "name": i.name, "category": label(i.category),
                       "price": money(i.price).text() if i.price is not None else "", "stock": str(i.in_stock_qty),
                       "source": label(i.source), "linked": "yes" if i.lot_id else ""}
                      for i in menus.manage_menu(session, principal=principal, dispensary_id=dispensary_id)]
        self.lots = [{"id": str(lot.id), "label": f"{lot.title} ({lot.strain_name})"}
                     for lot in menus.bought_lots(session, principal=principal, dispensary_id=dispensary_id)]

    @rx.var
    def profile_error(self) -> str:
        """The hours grid has no room beside each box: the profile's first error shows above its button."""
        return next((self.errors[f] for f in PROFILE_FIELDS if f in self.errors), "")

    @rx.event
    def load(self):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self.draft, self.import_errors, self.import_summary = dict(EMPTY_DRAFT), [], ""
        self._reset_errors()
        self._refresh(principal)
        self.loaded = True

    @rx.event
    def claim(self, dispensary_id: str):
        self.current = {"id": dispensary_id}
        return self._perform(lambda s, p: menus.claim(s, principal=p, business_id=uuid.UUID(self.business_id),
                                                  dispensary_id=uuid.UUID(dispensary_id)),
                         "Claimed: you can now edit its profile and menu.")

    @rx.event
    def manage(self, dispensary_id: str):
        self.current = {"id": dispensary_id}
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        self._refresh(principal)

    @rx.event
    def set_phone(self, value: str):
        self.phone = value

    @rx.event
    def set_website(self, value: str):
        self.website = value

    @rx.event
    def toggle_service(self, name: str, checked: bool):
        self.services = toggled(self.services, name, checked, service.SERVICES)

    @rx.event
    def set_hour(self, day: str, index: int, value: str):
        span = list(self.hours.get(day) or ["", ""])
        span[index] = value
        self.hours = {**self.hours, day: span}

    @rx.event
    def save_profile(self):
        hours = {day: (span[0], span[1]) for day, span in self.hours.items()}
        return self._perform(lambda s, p: menus.update_profile(
            s, principal=p, dispensary_id=uuid.UUID(self.current["id"]), phone=self.phone, website=self.website,
            hours=hours, services=self.services), "Profile saved.")

    @rx.event
    def set_draft(self, field: str, value: str):
        self.draft = {**self.draft, field: value}

    @rx.event
    def edit_item(self, item_id: str):
        principal, redirect = self.require_principal()
        if redirect:
            return redirect
        with unit_of_work() as session:
            for item in menus.manage_menu(session, principal=principal, dispensary_id=uuid.UUID(self.current["id"])):
                if str(item.id) == item_id:
                    self.draft = _draft_of(item)

    @rx.event
    def new_item(self):
        self.draft = dict(EMPTY_DRAFT)
        self._reset_errors()

    @rx.event
    def save_item(self):
        row = {k: ("" if v == "none" else v) for k, v in self.draft.items()}

        def cleared(_item):
            self.draft = dict(EMPTY_DRAFT)  # ready for the next item

        def save(session, principal):
            return menus.upsert_item(session, principal=principal, dispensary_id=uuid.UUID(self.current["id"]),
                                     external_id=row["sku"], row=row)

        return self._perform(save, f"Saved {row['name'] or 'the item'}.", then=cleared)

    @rx.event
    def set_stock(self, item_id: str, quantity: int):
        return self._perform(lambda s, p: menus.set_stock(s, principal=p, item_id=uuid.UUID(item_id),
                                                          quantity=quantity),
                             "Stock updated." if quantity else "Marked out of stock.")

    @rx.event
    async def import_menu(self, files: list[rx.UploadFile]):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        if not files:
            return
        self.importing, self.import_errors, self.import_summary = True, [], ""
        yield
        try:
            data = await files[0].read()
            with unit_of_work() as session:
                report = menus.import_csv(session, principal=principal, dispensary_id=uuid.UUID(self.current["id"]),
                                          data=data)
            self.import_summary = f"{plural(report.saved, 'item')} saved, {plural(len(report.errors), 'row')} with errors."
            self.import_errors = [f"Line {line}: {why}" for line, why in report.errors]
        except DomainError as exc:
            self.import_summary = exc.message
        finally:
            self.importing = False
        self._refresh(principal)

    @rx.event
    async def upload_photos(self, files: list[rx.UploadFile]):
        principal, redirect = self.require_principal()
        if redirect:
            yield redirect
            return
        self.uploading, self.photo_error = True, ""
        yield
        try:
            for upload in files:
                data = await upload.read()
                with unit_of_work() as session:
                    photos.add(session, principal=principal, dispensary_id=uuid.UUID(self.current["id"]), data=data,
                               filename=upload.name or "photo")
        except DomainError as exc:
            self.photo_error = exc.message
        finally:
            self.uploading = False
        self._refresh(principal)

    @rx.event
    def remove_photo(self, photo_id: str):
        return self._perform(lambda s, p: photos.remove(s, principal=p, photo_id=uuid.UUID(photo_id)), "Photo removed.")

    @rx.event
    def set_reply(self, review_id: str, value: str):
        self.replies = {**self.replies, review_id: value}

    @rx.event
    def send_reply(self, review_id: str):
        return self._perform(lambda s, p: reviews.reply(s, principal=p, review_id=uuid.UUID(review_id),
                                                        text=self.replies.get(review_id, "")), "Reply published.")
