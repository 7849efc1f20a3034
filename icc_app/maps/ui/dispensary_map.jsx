// A react-leaflet map of dispensaries, wrapped as a Reflex component by icc_app/maps/ui/map.py.
// Tiles come from the configured tile server, loaded by the visitor's browser. When no tile loads (offline, a
// blocked server), the map says so and keeps its markers; `note` says where the page lists them instead.
// When the visitor pans or zooms (not when the map fits itself to new results), onMoveEnd receives the visible
// area as {lat, lon, radius_miles}: the page offers "Search this area".
import { useEffect, useRef, useState } from "react";
import { CircleMarker, MapContainer, Popup, TileLayer, useMap, useMapEvents } from "react-leaflet";
import "leaflet/dist/leaflet.css";

function FitToMarkers({ markers, center, zoom, fitting, moved }) {
  const map = useMap();
  const key = markers.map((m) => `${m.lat},${m.lon}`).join(";") + `|${center}`;
  useEffect(() => {
    let settle = null;
    const fit = () => {
      fitting.current = true;  // the moves this causes are ours, not the visitor's
      map.invalidateSize();  // the container may have been laid out after the map was made
      if (markers.length > 1) {
        map.fitBounds(markers.map((m) => [m.lat, m.lon]), { padding: [32, 32], maxZoom: 14 });
      } else if (markers.length === 1) {
        map.setView([markers[0].lat, markers[0].lon], 14);
      } else if (center && center.length === 2) {
        map.setView(center, zoom);
      }
      clearTimeout(settle);
      settle = setTimeout(() => { fitting.current = false; }, 400);
    };
    moved.current = false;
    fit();
    // The container can change size after the first fit (a sticky column, fonts, a phone turned): fit again,
    // unless the visitor has moved the map since.
    const observer = new ResizeObserver(() => { if (!moved.current) fit(); });
    observer.observe(map.getContainer());
    return () => { observer.disconnect(); clearTimeout(settle); };
  }, [key]);
  return null;
}

function ReportMoves({ onMoveEnd, fitting, moved }) {
  const map = useMapEvents({
    moveend: () => {
      if (fitting.current) return;
      moved.current = true;
      if (!onMoveEnd) return;
      const centre = map.getCenter();
      const corner = map.getBounds().getNorthEast();
      onMoveEnd({ lat: centre.lat, lon: centre.lng, radius_miles: centre.distanceTo(corner) / 1609.344 });
    },
  });
  return null;
}

export function DispensaryMap({ markers = [], center = [39.5, -98.35], zoom = 4, tileUrl = "", attribution = "",
                                height = "420px", note = "every result is in the list.", onMoveEnd = null }) {
  const [tiles, setTiles] = useState({ loaded: 0, failed: 0 });
  const fitting = useRef(true);
  const moved = useRef(false);
  const tilesDown = !tileUrl || (tiles.failed > 0 && tiles.loaded === 0);
  return (
    <div className="dispensary-map" data-markers={markers.length} data-tiles={tilesDown ? "down" : "up"}
         style={{ position: "relative", width: "100%", height }} role="region" aria-label="Map of dispensaries">
      <MapContainer center={center} zoom={zoom} scrollWheelZoom={false}
                    style={{ height: "100%", width: "100%", borderRadius: "var(--radius-3)", zIndex: 0 }}>
        {tileUrl ? (
          <TileLayer url={tileUrl} attribution={attribution}
                     eventHandlers={{
                       tileload: () => setTiles((t) => ({ ...t, loaded: t.loaded + 1 })),
                       tileerror: () => setTiles((t) => ({ ...t, failed: t.failed + 1 })),
                     }} />
        ) : null}
        <FitToMarkers markers={markers} center={center} zoom={zoom} fitting={fitting} moved={moved} />
        <ReportMoves onMoveEnd={onMoveEnd} fitting={fitting} moved={moved} />
        {markers.map((m) => (
          <CircleMarker key={m.id || `${m.lat},${m.lon}`} center={[m.lat, m.lon]} radius={9}
                        pathOptions={{ color: "#fff", weight: 2, fillColor: m.is_open ? "#2f9e44" : "#5c7cfa",
                                       fillOpacity: 0.9 }}>
            <Popup>
              <strong>{m.href ? <a href={m.href}>{m.name}</a> : m.name}</strong>
              {m.address ? <div>{m.address}</div> : null}
              {m.miles ? <div>{m.miles}{m.open ? ` · ${m.open}` : ""}</div> : null}
              {m.directions ? <div><a href={m.directions} target="_blank" rel="noopener">Directions</a></div> : null}
            </Popup>
          </CircleMarker>
        ))}
      </MapContainer>
      {tilesDown ? (
        <div role="status" className="map-tiles-down"
             style={{ position: "absolute", left: 8, bottom: 8, zIndex: 500, padding: "4px 8px", fontSize: 12,
                      borderRadius: 6, background: "var(--gray-a11)", color: "var(--gray-1)" }}>
          {tileUrl ? "The map background could not load" : "No map background is configured"}; {note}
        </div>
      ) : null}
    </div>
  );
}
