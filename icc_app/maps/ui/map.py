"""The dispensary map: our react-leaflet component (dispensary_map.jsx, beside this file) as a Reflex component.
It renders in the browser only (Leaflet needs `window`); tiles come from MAP_TILE_URL."""

from __future__ import annotations

import reflex as rx
from reflex.event import passthrough_event_spec

from icc_app.settings import get_settings

_SOURCE = rx.asset("dispensary_map.jsx", shared=True)


class DispensaryMap(rx.NoSSRComponent):
    library = _SOURCE.importable_path
    tag = "DispensaryMap"
    lib_dependencies: list[str] = ["leaflet@1.9.4", "react-leaflet@5.0.0"]

    markers: rx.Var[list]  # DispensaryCard-like: id, lat, lon, name, address, miles, open, is_open, href
    center: rx.Var[list[float]]
    zoom: rx.Var[int]
    tile_url: rx.Var[str]
    attribution: rx.Var[str]
    height: rx.Var[str]
    note: rx.Var[str]  # after "The map background could not load;": where else the page shows the markers
    # The visitor moved the map: {lat, lon, radius_miles} of the visible area (not fired by fitting to results).
    on_move_end: rx.EventHandler[passthrough_event_spec(dict)]


def dispensary_map(markers: rx.Var, *, center: rx.Var | list[float] | None = None, zoom: int = 4,
                   height: str = "420px", note: str = "every result is in the list.", **props) -> rx.Component:
    settings = get_settings()
    return DispensaryMap.create(markers=markers, center=center if center is not None else [39.5, -98.35], zoom=zoom,
                                tile_url=settings.map_tile_url, attribution=settings.map_tile_attribution,
                                height=height, note=note, **props)
