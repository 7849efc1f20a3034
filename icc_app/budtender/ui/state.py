"""State of "Find My Product": the quiz, the results (list and map), favourites and history. Thin: validates,
calls the budtender service inside a unit of work, and keeps Read schemas."""

from __future__ import annotations

import uuid

import reflex as rx
from pydantic import BaseModel

from icc_app.budtender import service
from icc_app.budtender.schemas import FavouriteRead, RecommendationRead, RunRead
from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.maps.geocoding import geocode
from icc_app.ui.format import plural
from icc_app.ui.state import SessionState

RADII = ["5", "10", "15", "25", "50"]


class StoreMarker(BaseModel):
    id: str
    lat: float
    lon: float
    name: str
    address: str = ""
    miles: str = ""
    open: str = ""
    is_open: bool = False
    href: str = ""


class FindState(SessionState):
    wanted: list[str] = []
    avoided: list[str] = []
    experience: str = "occasional"
    formats: list[str] = []
    budget: str = ""
    place: str = ""
    radius: str = "15"
    results: list[RecommendationRead] = []
    markers: list[StoreMarker] = []
    heading: str = ""
    run_id: str = ""
    error: str = ""
    searching: bool = False
    searched: bool = False
    saving: str = ""  # the item whose favourite is being saved
    favourites: list[FavouriteRead] = []
    history: list[RunRead] = []

    @rx.event
    def load(self):
        """on_load: the signed-in consumer's saved answers, favourites and history (anonymous: an empty quiz)."""
        principal = self.principal()
        self._apply(principal)
        self.results, self.markers, self.searched, self.error, self.heading = [], [], False, "", ""
        if principal is None or principal.user_id is None:
            self.favourites, self.history = [], []
            return
        with unit_of_work() as session:
            saved = service.saved_profile(session, principal=principal)
            self.favourites = service.favourites(session, principal=principal)
            self.history = service.history(session, principal=principal, limit=5)
        if saved is not None:
            self.wanted, self.avoided, self.experience = saved.wanted, saved.avoided, saved.experience
            self.formats, self.budget, self.place = saved.formats, saved.budget_max, saved.place
            self.radius = str(int(saved.radius_miles)) if str(int(saved.radius_miles)) in RADII else "15"

    @rx.event
    def toggle_wanted(self, key: str, checked: bool):
        self.wanted = [w for w in self.wanted if w != key] + ([key] if checked else [])

    @rx.event
    def toggle_avoided(self, key: str, checked: bool):
        self.avoided = [a for a in self.avoided if a != key] + ([key] if checked else [])

    @rx.event
    def toggle_format(self, key: str, checked: bool):
        self.formats = [f for f in self.formats if f != key] + ([key] if checked else [])

    @rx.event
    def set_experience(self, value: str):
        self.experience = value

    @rx.event
    def set_radius(self, value: str):
        self.radius = value if value in RADII else "15"

    @rx.event
    def find(self, form: dict):
        """Run the quiz: validate, locate the place, recommend, keep the answers (signed in)."""
        if self.searching:
            return
        self.searching, self.error = True, ""
        yield
        try:
            self._find(str(form.get("place", "")).strip(), str(form.get("budget", "")).strip())
        except DomainError as exc:
            self.error = str(exc)
        finally:
            self.searching = False

    def _find(self, place: str, budget: str) -> None:
        self.place, self.budget = place, budget
        profile = service.clean_quiz(wanted=self.wanted, avoided=self.avoided, experience=self.experience,
                                     formats=self.formats, budget_max=budget)
        if not place:
            raise DomainError("Enter a city, ZIP code or address to find stores near you.")
        principal = self.principal()
        radius = float(self.radius)
        with unit_of_work() as session:
            point = geocode(session, place)
            if point is None or point.latitude is None:
                raise DomainError(f"We could not find {place!r}: try a ZIP code or a city and state.")
            if principal is not None and principal.user_id is not None:
                service.save_profile(session, principal=principal, profile=profile, radius_miles=radius,
                                     lat=point.latitude, lon=point.longitude, place=place)
            run_id, results = service.recommend(session, principal=principal, profile=profile, lat=point.latitude,
                                                lon=point.longitude, radius_miles=radius)
            if principal is not None and principal.user_id is not None:
                self.history = service.history(session, principal=principal, limit=5)
        self.run_id = str(run_id or "")
        self.results = results
        stores: dict[str, StoreMarker] = {}
        for r in results:
            if r.lat is not None and r.lon is not None and r.dispensary_id not in stores:
                stores[r.dispensary_id] = StoreMarker(id=r.dispensary_id, lat=r.lat, lon=r.lon,
                                                      name=r.dispensary_name, miles=r.distance_text)
        self.markers = list(stores.values())
        self.searched = True
        self.heading = (f"{plural(len(results), 'pick')} in stock within {self.radius} miles of {place}"
                        if results else "")

    @rx.event
    def save_favourite(self, menu_item_id: str):
        principal = self.principal()
        if principal is None or principal.user_id is None:
            self.error = "Sign in to save favourites."
            return
        if self.saving:
            return
        self.saving = menu_item_id
        yield
        try:
            with unit_of_work() as session:
                service.add_favourite(session, principal=principal, menu_item_id=uuid.UUID(menu_item_id))
                self.favourites = service.favourites(session, principal=principal)
            self.results = [r.model_copy(update={"favourite": True}) if r.menu_item_id == menu_item_id else r
                            for r in self.results]
        except DomainError as exc:
            self.error = str(exc)
        finally:
            self.saving = ""

    @rx.event
    def remove_favourite(self, menu_item_id: str):
        principal = self.principal()
        if principal is None or not menu_item_id:
            return
        with unit_of_work() as session:
            service.remove_favourite(session, principal=principal, menu_item_id=uuid.UUID(menu_item_id))
            self.favourites = service.favourites(session, principal=principal)
        self.results = [r.model_copy(update={"favourite": False}) if r.menu_item_id == menu_item_id else r
                        for r in self.results]

    @rx.event
    def opened(self, menu_item_id: str):
        """A click on a result (feedback for the model), before the product page opens."""
        principal = self.principal()
        if principal is None or principal.user_id is None:
            return
        try:
            with unit_of_work() as session:
                service.record_feedback(session, principal=principal, menu_item_id=uuid.UUID(menu_item_id),
                                        kind="click", run_id=uuid.UUID(self.run_id) if self.run_id else None)
        except DomainError:
            pass  # feedback never blocks the visitor
