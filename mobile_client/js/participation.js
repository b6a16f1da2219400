// What the screens of budget rounds and consultations share: which jurisdiction a page is about (also
// on a phone that opened a link without ever starting the app), money, phases, an inline error next to
// one choice, the reorder list for ranked ballots and ranking questions, and the two maps (projects as
// dots, map answers as a heat grid). The maps are drawn on MapLibre maps from js/map.js.
import { h, button, uid, announce } from "./ui.js";

/** The jurisdiction a participation page is about: the link's `?j=`, the session's, or the only one. */
export async function jurisdictionOf(ctx) {
  const named = ctx.query.get("j") || ctx.session.jurisdiction()?.slug;
  if (named) return named;
  try {
    const all = await ctx.api.places.jurisdictions();
    return all.length === 1 ? all[0].slug : null;
  } catch {
    return null;
  }
}

/** Append children skipping null/false and flattening arrays (DOM append would write "null"). */
export function put(parent, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child);
  }
  return parent;
}

/** A path inside the app that keeps `?j=` when the page was opened with it. */
export function linkTo(ctx, path) {
  const named = ctx.query.get("j");
  return named && !ctx.session.jurisdiction() ? `${path}?j=${encodeURIComponent(named)}` : path;
}

/** An amount in the resident's language, whole units (€ 12.500). */
export function money(i18n, amount, currency = "EUR") {
  return i18n.number(Number(amount), { style: "currency", currency, maximumFractionDigits: 0, minimumFractionDigits: 0 });
}

export const PHASES = ["proposals", "review", "voting", "results", "implementation"];

/** "Step 3 of 5: voting" and the phase's own tag. */
export function phaseLine(t, phase) {
  const step = PHASES.indexOf(phase) + 1;
  return h(
    "p",
    { class: "steps" },
    t("round.step", { step, total: PHASES.length }),
    " ",
    h("span", { class: `tag phase-${phase}` }, t(`phase.${phase}`)),
  );
}

/** The dates that matter in this phase, as a line (voting closes at ..., ...). */
export function roundDates(t, i18n, round) {
  if (round.phase === "voting" && round.voting_closes_at) return t("round.voting_until", { date: i18n.dateTime(round.voting_closes_at) });
  if (round.phase !== "voting" && round.voting_opens_at && ["proposals", "review"].includes(round.phase)) {
    return t("round.voting_from", { date: i18n.dateTime(round.voting_opens_at) });
  }
  return "";
}

/** Show `message` next to one choice (its field wrapper), without moving focus; said aloud. */
export function inlineError(wrapper, message) {
  const slot = wrapper.querySelector(".field-error");
  const control = wrapper.querySelector("input, button, textarea, select");
  slot.id ||= uid("error");
  slot.textContent = message;
  slot.hidden = !message;
  wrapper.classList.toggle("has-error", Boolean(message));
  if (control) {
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== slot.id);
    if (message) {
      control.setAttribute("aria-invalid", "true");
      described.push(slot.id);
    } else {
      control.removeAttribute("aria-invalid");
    }
    if (described.length) control.setAttribute("aria-describedby", described.join(" "));
    else control.removeAttribute("aria-describedby");
  }
  if (message) announce(message);
}

/**
 * An ordered choice without dragging: the chosen items in order, each with "up", "down" and "remove";
 * below them the items not chosen yet, each with "add". Every button names its item, focus stays on
 * the moved item, and each move is said aloud ("Playground is now number 2 of 3").
 *
 * items: [{id, label}]; order: ids chosen, in order; limit: how many may be chosen (or null);
 * onChange(order); onRefused(item, wrapper) when adding past the limit.
 */
export function rankingList({ t, items, order, limit = null, name, legend, hint, onChange, onRefused }) {
  const byId = new Map(items.map((item) => [String(item.id), item]));
  let chosen = order.map(String).filter((id) => byId.has(id));
  const root = h("div", { class: "ranking" });
  const fieldset = h(
    "fieldset",
    { class: "field choices", dataset: { field: name } },
    h("legend", {}, legend),
    hint ? h("p", { class: "hint" }, hint) : null,
    h("p", { class: "field-error", hidden: true }),
    root,
  );

  const move = (id, to, focusName) => {
    const from = chosen.indexOf(id);
    chosen.splice(from, 1);
    chosen.splice(to, 0, id);
    draw(id, focusName);
    announce(t("ranking.now_at", { name: byId.get(id).label, place: to + 1, count: chosen.length }));
    onChange?.(chosen.slice());
  };

  function draw(focusId = null, focusName = null, focusRest = false) {
    const ranked = h(
      "ol",
      { class: "ranked", "aria-label": t("ranking.chosen") },
      chosen.map((id, index) => {
        const item = byId.get(id);
        return h(
          "li",
          { class: "ranked-item", dataset: { id } },
          h("span", { class: "rank-number", "aria-hidden": "true" }, String(index + 1)),
          h("span", { class: "rank-label" }, item.label),
          h(
            "span",
            { class: "rank-actions" },
            button(t("ranking.up"), () => move(id, index - 1, "up"), {
              kind: "secondary",
              disabled: index === 0,
              "aria-label": t("ranking.up_named", { name: item.label }),
              dataset: { action: "up" },
            }),
            button(t("ranking.down"), () => move(id, index + 1, "down"), {
              kind: "secondary",
              disabled: index === chosen.length - 1,
              "aria-label": t("ranking.down_named", { name: item.label }),
              dataset: { action: "down" },
            }),
            button(t("ranking.remove"), () => {
              chosen = chosen.filter((x) => x !== id);
              draw(null, null, true);
              announce(t("ranking.removed", { name: item.label }));
              onChange?.(chosen.slice());
            }, { kind: "link", "aria-label": t("ranking.remove_named", { name: item.label }) }),
          ),
        );
      }),
    );
    const rest = items.filter((item) => !chosen.includes(String(item.id)));
    const available = h(
      "ul",
      { class: "cards unranked", "aria-label": t("ranking.not_chosen") },
      rest.map((item) => {
        const wrapper = h("li", { class: "field card", dataset: { field: `${name}-${item.id}` } });
        wrapper.append(
          h("span", { class: "rank-label" }, item.label),
          h("p", { class: "field-error", hidden: true }),
          button(t("ranking.add", { place: chosen.length + 1 }), () => {
            if (limit !== null && chosen.length >= limit) {
              onRefused?.(item, wrapper);
              return;
            }
            chosen.push(String(item.id));
            draw(String(item.id), "down");
            announce(t("ranking.now_at", { name: item.label, place: chosen.length, count: chosen.length }));
            onChange?.(chosen.slice());
          }, { kind: "secondary", "aria-label": t("ranking.add_named", { name: item.label, place: chosen.length + 1 }) }),
        );
        return wrapper;
      }),
    );
    root.replaceChildren();
    put(
      root,
      chosen.length ? ranked : h("p", { class: "meta" }, t("ranking.none_yet")),
      rest.length ? h("h3", {}, t("ranking.not_chosen")) : null,
      rest.length ? available : null,
    );
    if (focusId !== null) {
      const row = root.querySelector(`.ranked-item[data-id="${CSS.escape(focusId)}"]`);
      const target = row?.querySelector(`[data-action="${focusName}"]:not([disabled])`) || row?.querySelector("button:not([disabled])");
      target?.focus();
    } else if (focusRest) {
      (root.querySelector(".unranked button") || root.querySelector("button"))?.focus();
    }
  }
  draw();
  return { element: fieldset, order: () => chosen.slice() };
}

// ---------------------------------------------------------------------------------------------
// Maps

const PROJECT_COLOURS = { funded: "#1f6f3a", not_funded: "#6b6b6b", idea: "#0b5563" };

function boundsOf(maplibregl, coordinates) {
  const bounds = new maplibregl.LngLatBounds();
  for (const point of coordinates) bounds.extend(point);
  return bounds;
}

/**
 * Projects as dots on a map (colour by state, never the only cue: the list says it in words). A tap on
 * a dot calls onSelect(id). projects: [{id, location: GeoJSON point | null, state: funded|not_funded|idea}]
 */
export async function projectMap(container, ctx, { slug, projects, label, onSelect }) {
  const { createMap } = await import("./map.js");
  const located = projects.filter((p) => p.location?.coordinates);
  const bbox = ctx.session.jurisdiction()?.bbox;
  const handle = await createMap(container, {
    slug,
    center: located.length ? located[0].location.coordinates : undefined,
    bounds: !located.length && bbox ? [[bbox[0], bbox[1]], [bbox[2], bbox[3]]] : undefined,
    zoom: 15,
    reports: false,
    label,
  });
  const { map, maplibregl } = handle;
  map.addSource("projects", {
    type: "geojson",
    data: {
      type: "FeatureCollection",
      features: located.map((p) => ({ type: "Feature", geometry: p.location, properties: { id: p.id, state: p.state } })),
    },
  });
  map.addLayer({
    id: "projects",
    type: "circle",
    source: "projects",
    paint: {
      "circle-color": ["match", ["get", "state"], "funded", PROJECT_COLOURS.funded, "not_funded", PROJECT_COLOURS.not_funded, PROJECT_COLOURS.idea],
      "circle-radius": 9,
      "circle-stroke-color": "#ffffff",
      "circle-stroke-width": 2,
    },
  });
  if (located.length > 1) map.fitBounds(boundsOf(maplibregl, located.map((p) => p.location.coordinates)), { padding: 40, maxZoom: 17, animate: false });
  map.on("click", "projects", (event) => {
    const feature = event.features?.[0];
    if (feature) onSelect?.(Number(feature.properties.id));
  });
  map.on("mouseenter", "projects", () => {
    map.getCanvas().style.cursor = "pointer";
  });
  map.on("mouseleave", "projects", () => {
    map.getCanvas().style.cursor = "";
  });
  return handle;
}

export const HEAT_COLOURS = ["#fff3b0", "#fdbb63", "#f17c3a", "#c6362c", "#7f0d1e"];

/** The density grid of map answers as a heat layer: each cell coloured by its count (legend beside). */
export async function heatMap(container, ctx, { slug, density, label }) {
  const { createMap } = await import("./map.js");
  const cells = density?.features || [];
  const corners = cells.flatMap((f) => f.geometry.coordinates[0]);
  const bbox = ctx.session.jurisdiction()?.bbox;
  const handle = await createMap(container, {
    slug,
    center: corners.length ? corners[0] : undefined,
    bounds: !corners.length && bbox ? [[bbox[0], bbox[1]], [bbox[2], bbox[3]]] : undefined,
    zoom: 15,
    reports: false,
    label,
  });
  const { map, maplibregl } = handle;
  const top = Math.max(1, ...cells.map((f) => f.properties.count));
  map.addSource("answers", { type: "geojson", data: density || { type: "FeatureCollection", features: [] } });
  map.addLayer({
    id: "answers",
    type: "fill",
    source: "answers",
    paint: {
      "fill-color": [
        "interpolate",
        ["linear"],
        ["/", ["get", "count"], top],
        0, HEAT_COLOURS[0],
        0.25, HEAT_COLOURS[1],
        0.5, HEAT_COLOURS[2],
        0.75, HEAT_COLOURS[3],
        1, HEAT_COLOURS[4],
      ],
      "fill-opacity": 0.75,
      "fill-outline-color": "#1b1b1b",
    },
  });
  if (corners.length) map.fitBounds(boundsOf(maplibregl, corners), { padding: 40, maxZoom: 17, animate: false });
  return handle;
}

/** The centre of a grid cell (a GeoJSON polygon) as [lon, lat]. */
export function cellCentre(feature) {
  const ring = feature.geometry.coordinates[0].slice(0, -1);
  const lon = ring.reduce((sum, p) => sum + p[0], 0) / ring.length;
  const lat = ring.reduce((sum, p) => sum + p[1], 0) / ring.length;
  return [lon, lat];
}

export function metresBetween([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}

/**
 * Why a project was or was not funded, in words for residents, from the numbers of the tally's
 * explanation (stage, votes, the price its supporters paid, what was left when its turn came).
 */
export function explanationSentence(t, i18n, explanation, currency = "EUR") {
  if (!explanation) return "";
  const m = (value) => money(i18n, value ?? 0, currency);
  const { stage, selected } = explanation;
  const votes = explanation.payments?.supporters ?? explanation.votes ?? 0;
  if (!stage) return t("explain.no_ballots");
  if (stage === "no-support") return t("explain.no_support");
  if (stage === "threshold") return t("explain.threshold", { count: votes });
  const remaining = explanation.remaining_before;
  if (stage === "mes" || (stage === "completion" && remaining == null)) {
    if (selected && explanation.payments) {
      return t("explain.mes_funded", { count: votes, round: explanation.round, share: m(explanation.payments.max_payment) });
    }
    if (selected) return t("explain.free");
    return t("explain.mes_not_funded", { count: votes, available: m(explanation.supporters_budget), cost: m(explanation.cost) });
  }
  if (stage === "completion") {
    return t(selected ? "explain.completion_funded" : "explain.completion_not_funded", { count: votes, remaining: m(remaining), cost: m(explanation.cost) });
  }
  const greedy = t(selected ? "explain.greedy_funded" : "explain.greedy_not_funded", {
    count: votes,
    rank: explanation.rank ?? "-",
    remaining: m(remaining),
    cost: m(explanation.cost),
  });
  return stage === "comparison" ? `${t("explain.comparison")} ${greedy}` : greedy;
}
