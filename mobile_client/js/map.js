// Maps, loaded only by the screens that show one (MapLibre GL JS is ~460 kB gzip with its worker).
// They draw the API's own vector tiles: area boundaries and reports (grid cells with a count below
// zoom 16, the reports themselves from 16 on). Every map has a non-map alternative on its screen.
let library = null;

/** MapLibre, its stylesheet and worker (served next to the module, as maplibre-gl 6 needs). */
export function loadMapLibrary() {
  library ??= (async () => {
    const href = new URL("../vendor/maplibre-gl/maplibre-gl.css", import.meta.url).href;
    if (!document.querySelector(`link[href="${href}"]`)) {
      const link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      document.head.append(link);
    }
    const module = await import("../vendor/maplibre-gl/maplibre-gl.mjs");
    return module.default ?? module;
  })();
  library.catch(() => {
    library = null;
  });
  return library;
}

const THEME = "#0b5563";

function style(slug, { reports = true } = {}) {
  const origin = location.origin;
  const sources = {
    areas: {
      type: "vector",
      tiles: [`${origin}/tiles/areas/{z}/{x}/{y}.mvt?jurisdiction=${encodeURIComponent(slug)}`],
      maxzoom: 16,
    },
  };
  const layers = [
    { id: "background", type: "background", paint: { "background-color": "#cfd8db" } },
    {
      id: "area-fill",
      type: "fill",
      source: "areas",
      "source-layer": "areas",
      paint: { "fill-color": "#ffffff", "fill-opacity": ["match", ["get", "level"], "municipality", 0.9, 0.15] },
    },
    {
      id: "area-line",
      type: "line",
      source: "areas",
      "source-layer": "areas",
      paint: {
        "line-color": ["match", ["get", "level"], "municipality", "#1b1b1b", "district", "#3c5a60", "#6f8a8f"],
        "line-width": ["match", ["get", "level"], "municipality", 2.5, "district", 1.8, 1],
      },
    },
  ];
  if (reports) {
    sources.reports = {
      type: "vector",
      tiles: [`${origin}/tiles/reports/{z}/{x}/{y}.mvt?jurisdiction=${encodeURIComponent(slug)}&status=open`],
      maxzoom: 16,
    };
    layers.push({
      id: "reports",
      type: "circle",
      source: "reports",
      "source-layer": "reports",
      paint: {
        "circle-color": ["case", ["get", "cluster"], THEME, "#b00020"],
        "circle-radius": ["step", ["get", "count"], 7, 5, 10, 25, 14, 100, 18, 1000, 24],
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 2,
        "circle-opacity": 0.9,
      },
    });
  }
  return { version: 8, sources, layers };
}

/**
 * A map in `container`. Options: slug (jurisdiction), center [lon, lat], zoom, bounds, reports
 * (show them), onReport(id) (a report tapped), label (accessible name of the map region).
 */
export async function createMap(container, { slug, center, zoom = 15, bounds, reports = true, onReport, label }) {
  const maplibregl = await loadMapLibrary();
  const map = new maplibregl.Map({
    container,
    style: style(slug, { reports }),
    center: center || [4.9, 52.37],
    zoom,
    maxZoom: 19,
    attributionControl: false,
    cooperativeGestures: false,
    fadeDuration: 0,
  });
  if (bounds && !center) map.fitBounds(bounds, { padding: 20, animate: false });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  if (label) map.getCanvas().setAttribute("aria-label", label);
  if (reports) {
    map.on("click", "reports", (event) => {
      const feature = event.features?.[0];
      if (!feature) return;
      if (feature.properties.cluster) {
        map.easeTo({ center: event.lngLat, zoom: Math.min(map.getZoom() + 2, 17) });
      } else if (onReport) {
        onReport(Number(feature.properties.id));
      }
    });
    map.on("mouseenter", "reports", () => {
      map.getCanvas().style.cursor = "pointer";
    });
    map.on("mouseleave", "reports", () => {
      map.getCanvas().style.cursor = "";
    });
  }
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once("load", resolve)));
  return { map, maplibregl };
}

/**
 * A draggable pin (also movable with the arrow keys when focused). `onMove([lon, lat])` after each
 * move. Returns {marker, set([lon, lat])}.
 */
export function addPin({ map, maplibregl }, lngLat, { label, onMove }) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "pin";
  element.setAttribute("aria-label", label);
  const marker = new maplibregl.Marker({ element, draggable: true, anchor: "bottom" }).setLngLat(lngLat).addTo(map);
  const moved = () => {
    const { lng, lat } = marker.getLngLat();
    onMove?.([lng, lat]);
  };
  marker.on("dragend", moved);
  element.addEventListener("keydown", (event) => {
    const step = { ArrowUp: [0, -10], ArrowDown: [0, 10], ArrowLeft: [-10, 0], ArrowRight: [10, 0] }[event.key];
    if (!step) return;
    event.preventDefault();
    const point = map.project(marker.getLngLat());
    marker.setLngLat(map.unproject([point.x + step[0], point.y + step[1]]));
    moved();
  });
  return {
    marker,
    set(position) {
      marker.setLngLat(position);
    },
  };
}

/** The names of the areas drawn under a point, most local first (e.g. "Dam, Centrum"). */
export function areasAt(map, lngLat) {
  const point = map.project(lngLat);
  const order = { neighbourhood: 0, district: 1, municipality: 2 };
  const found = map.queryRenderedFeatures(point, { layers: ["area-fill"] });
  const names = [...new Map(found.map((f) => [f.properties.name, f.properties.level])).entries()];
  return names.sort((a, b) => order[a[1]] - order[b[1]]).map(([name]) => name);
}
