// The neighbourhood dashboard for council members (administrators: every area): how the area is served,
// straight from the loop-metrics API, so every figure here equals it for the same area and period.
// Reports per category and per week or month, median time to resolve, share resolved within the due
// date, reopen rate, satisfaction, the share of inputs (reports, votes, consultation answers) told what
// was done with them, hotspots on a map. Every chart has a table; the whole can be downloaded as CSV.
import { h, heading, failure, loading, button, announce, uid } from "../js/ui.js";
import { toCsv, download } from "../js/csv.js";

const PERIODS = [30, 90, 365];
const state = { areaId: null, days: 90 }; // kept while the app is open
const LEVEL_ORDER = { municipality: 0, district: 1, neighbourhood: 2 };

/** The calendar periods between two moments in a time zone: ISO weeks ("2026-W07") or months ("2026-02"). */
export function periodsBetween(start, end, unit, timeZone) {
  const format = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
  const labels = [];
  for (let at = start.getTime(); at < end.getTime() + 86400000; at += 86400000) {
    const moment = new Date(Math.min(at, end.getTime() - 1));
    const parts = Object.fromEntries(format.formatToParts(moment).map((p) => [p.type, p.value]));
    const label = unit === "month" ? `${parts.year}-${parts.month}` : isoWeek(Number(parts.year), Number(parts.month), Number(parts.day));
    if (labels.at(-1) !== label) labels.push(label);
  }
  return labels;
}

function isoWeek(year, month, day) {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const first = new Date(Date.UTC(date.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((date - first) / 86400000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

/** The areas someone may look at: an administrator every one (and the whole municipality), a council
 * member the areas of their council and every area inside them. */
export function areasFor(areas, { admin, councilAreaIds }) {
  if (admin) return [...areas].sort((a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || a.name.localeCompare(b.name));
  const chosen = new Set(councilAreaIds);
  let grew = true;
  while (grew) {
    grew = false;
    for (const area of areas) {
      if (!chosen.has(area.id) && chosen.has(area.parent_id)) {
        chosen.add(area.id);
        grew = true;
      }
    }
  }
  return areas.filter((a) => chosen.has(a.id)).sort((a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || a.name.localeCompare(b.name));
}

export async function render(main, ctx) {
  const { t, i18n, api, session } = ctx;
  main.append(heading(t("dashboard.title")), h("p", {}, t("dashboard.intro")));
  const admin = session.roles().includes("admin");
  let areas;
  let categories;
  let timeZone = "Europe/Amsterdam";
  try {
    const [all, named, jurisdiction] = await Promise.all([
      api.places.areas(),
      api.places.categories(),
      api.get(api.jurisdictionPath()).catch(() => null),
    ]);
    areas = areasFor(all, { admin, councilAreaIds: session.get()?.councilAreaIds || [] });
    categories = new Map(named.map((c) => [c.code, i18n.pick(c.name)]));
    if (jurisdiction?.timezone) timeZone = jurisdiction.timezone;
  } catch (error) {
    main.append(failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  if (!admin && !areas.length) {
    main.append(h("p", {}, t("dashboard.no_areas")));
    return;
  }
  if (!admin && !areas.some((a) => a.id === state.areaId)) state.areaId = areas[0].id;

  const areaSelect = h(
    "select",
    { id: "dashboard-area", name: "area" },
    admin ? h("option", { value: "" }, t("dashboard.whole_municipality")) : null,
    areas.map((a) => h("option", { value: String(a.id), selected: a.id === state.areaId }, `${a.name} (${t(`level.${a.level}`)})`)),
  );
  const periodSelect = h(
    "select",
    { id: "dashboard-period", name: "period" },
    PERIODS.map((days) => h("option", { value: String(days), selected: days === state.days }, t("dashboard.last_days", { count: days }))),
  );
  const csvButton = button(t("dashboard.download_csv"), () => exportCsv(), { kind: "secondary", disabled: true });
  const content = h("div", { "aria-live": "off" }, loading());
  main.append(
    h(
      "form",
      { class: "filters", "aria-label": t("dashboard.filters"), onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field" }, h("label", { for: "dashboard-area" }, t("dashboard.area")), areaSelect),
      h("div", { class: "field" }, h("label", { for: "dashboard-period" }, t("dashboard.period")), periodSelect),
    ),
    h("div", { class: "actions" }, csvButton, h("a", { class: "button secondary", href: "/council/rounds" }, t("dashboard.rounds_link"))),
    content,
  );
  areaSelect.addEventListener("change", () => {
    state.areaId = areaSelect.value ? Number(areaSelect.value) : null;
    load();
  });
  periodSelect.addEventListener("change", () => {
    state.days = Number(periodSelect.value);
    load();
  });

  const percent = (value) => (value === null || value === undefined ? t("dashboard.no_data") : i18n.number(value, { style: "percent", maximumFractionDigits: 0 }));
  const duration = (hours) => {
    if (hours === null || hours === undefined) return t("dashboard.no_data");
    if (hours < 48) return i18n.number(hours, { style: "unit", unit: "hour", unitDisplay: "long", maximumFractionDigits: 0 });
    return i18n.number(hours / 24, { style: "unit", unit: "day", unitDisplay: "long", maximumFractionDigits: 1 });
  };

  /** A table cell with its raw value for the CSV and for checks; the text formatted for people. */
  const cell = (measure, value, text) => h("td", { dataset: { measure, value: value ?? "" } }, text);

  let left = false;
  let mapHandle = null;
  let csvRows = null;
  let run = 0;
  load();
  return () => {
    left = true;
    mapHandle?.map.remove();
  };

  async function load() {
    const mine = ++run;
    csvButton.disabled = true;
    mapHandle?.map.remove();
    mapHandle = null;
    content.replaceChildren(loading());
    // Up to the next whole minute (what was reported a moment ago counts), so the same period can be
    // asked again, and checked, to the second.
    const end = new Date(Math.ceil((Date.now() + 1) / 60000) * 60000);
    const start = new Date(end.getTime() - state.days * 86400000);
    const unit = state.days <= 90 ? "week" : "month";
    const scope = { start: start.toISOString(), end: end.toISOString(), area_id: state.areaId ?? undefined };
    let total;
    let perCategory;
    let perPeriod;
    let participation;
    let hotspots;
    try {
      [total, perCategory, perPeriod, participation, hotspots] = await Promise.all([
        api.council.loopMetrics(scope),
        api.council.loopMetrics({ ...scope, group_by: "category" }),
        api.council.loopMetrics({ ...scope, group_by: unit }),
        api.council.participationMetrics(scope),
        api.council.hotspots({ area_id: state.areaId ?? undefined, days: Math.min(state.days, 730) }).catch(() => ({ hotspots: [] })),
      ]);
    } catch (error) {
      if (mine === run && !left) content.replaceChildren(failure(error, load));
      return;
    }
    if (mine !== run || left) return;
    const area = areas.find((a) => a.id === state.areaId);
    const areaName = area ? area.name : t("dashboard.whole_municipality");
    const row = total.rows[0] || emptyRow();
    csvRows = [[t("dashboard.csv.section"), t("dashboard.csv.item"), t("dashboard.csv.label"), t("dashboard.csv.measure"), t("dashboard.csv.value")]];
    csvRows.push(["period", "", areaName, "start", total.start], ["period", "", areaName, "end", total.end]);

    content.replaceChildren(
      h("p", { class: "meta period", dataset: { start: total.start, end: total.end, areaId: state.areaId ?? "" } }, t("dashboard.period_text", { area: areaName, start: i18n.date(total.start), end: i18n.date(total.end) })),
      keyFigures(row),
      toldChart(row, participation),
      categoryChart(perCategory.rows),
      periodChart(perPeriod.rows, periodsBetween(start, end, unit, timeZone), unit),
      hotspotSection(hotspots.hotspots || []),
    );
    csvButton.disabled = false;
    announce(t("dashboard.updated", { area: areaName }));
  }

  function emptyRow() {
    return { inputs: 0, outcome_messaged: 0, outcome_message_share: null, median_hours_to_first_response: null, median_hours_to_resolution: null, deadline_due: 0, deadline_met: 0, deadline_compliance: null, satisfaction_answers: 0, satisfaction_score: null, fixed_share: null, resolved: 0, reopened: 0, reopen_rate: null };
  }

  function keyFigures(row) {
    const figures = [
      ["inputs", row.inputs, i18n.number(row.inputs)],
      ["median_hours_to_resolution", row.median_hours_to_resolution, duration(row.median_hours_to_resolution)],
      ["deadline_compliance", row.deadline_compliance, `${percent(row.deadline_compliance)} (${t("dashboard.of", { part: row.deadline_met, whole: row.deadline_due })})`],
      ["reopen_rate", row.reopen_rate, `${percent(row.reopen_rate)} (${t("dashboard.of", { part: row.reopened, whole: row.resolved })})`],
      ["satisfaction_score", row.satisfaction_score, row.satisfaction_score === null ? t("dashboard.no_data") : t("dashboard.score", { score: i18n.number(row.satisfaction_score, { maximumFractionDigits: 1 }), count: row.satisfaction_answers })],
      ["fixed_share", row.fixed_share, percent(row.fixed_share)],
      ["outcome_message_share", row.outcome_message_share, `${percent(row.outcome_message_share)} (${t("dashboard.of", { part: row.outcome_messaged, whole: row.inputs })})`],
    ];
    for (const [measure, value] of figures) csvRows.push(["key_figures", "", t(`dashboard.figure.${measure}`), measure, value]);
    for (const measure of ["deadline_met", "deadline_due", "resolved", "reopened", "satisfaction_answers", "outcome_messaged", "median_hours_to_first_response"]) {
      csvRows.push(["key_figures", "", t(`dashboard.figure.${measure}`), measure, row[measure]]);
    }
    const titleId = uid("figures");
    return h(
      "section",
      { "aria-labelledby": titleId },
      h("h2", { id: titleId }, t("dashboard.key_figures")),
      h(
        "table",
        { class: "data key-figures" },
        h("caption", { class: "visually-hidden" }, t("dashboard.key_figures")),
        h("tbody", {}, figures.map(([measure, value, text]) => h("tr", {}, h("th", { scope: "row" }, t(`dashboard.figure.${measure}`)), cell(measure, value, text)))),
      ),
    );
  }

  /** A bar chart (for the eye; hidden from screen readers) with the same data as a table under it. */
  function chart({ name, title, note, bars, table, scale = null }) {
    const titleId = uid("chart");
    const max = scale ?? Math.max(1, ...bars.map((b) => b.value || 0));
    const drawn = h(
      "div",
      { class: "bars", "aria-hidden": "true" },
      bars.map((b) => {
        const bar = h("span", { class: "bar" });
        bar.style.inlineSize = `${Math.round(((b.value || 0) / max) * 100)}%`;
        return h("div", { class: "bar-row" }, h("span", { class: "bar-label" }, b.label), h("span", { class: "bar-track" }, bar), h("span", { class: "bar-value" }, b.text));
      }),
    );
    return h(
      "section",
      { class: "chart", "aria-labelledby": titleId, dataset: { chart: name } },
      h("h2", { id: titleId }, title),
      note ? h("p", { class: "meta" }, note) : null,
      bars.length ? drawn : h("p", {}, t("dashboard.nothing")),
      h("details", { class: "table-alternative" }, h("summary", {}, t("dashboard.as_table", { title })), table),
    );
  }

  /** A table in a box that scrolls sideways on a narrow phone (focusable, so a keyboard can scroll it). */
  function dataTable(caption, columns, rows) {
    const captionId = uid("caption");
    return h(
      "div",
      { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": captionId },
      h(
        "table",
        { class: "data" },
        h("caption", { id: captionId }, caption),
        h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows),
      ),
    );
  }

  function toldChart(row, participation) {
    const kinds = [
      ["reports", { inputs: row.inputs, outcome_messaged: row.outcome_messaged, outcome_message_share: row.outcome_message_share }],
      ["votes", participation.votes[0]],
      ["consultation_responses", participation.consultation_responses[0]],
    ].map(([kind, found]) => [kind, found || { inputs: 0, outcome_messaged: 0, outcome_message_share: null }]);
    for (const [kind, found] of kinds) {
      for (const measure of ["inputs", "outcome_messaged", "outcome_message_share"]) csvRows.push(["told", kind, t(`dashboard.input.${kind}`), measure, found[measure]]);
    }
    const title = t("dashboard.told_title");
    return chart({
      name: "told",
      title,
      note: t("dashboard.told_note"),
      scale: 100, // shares: a full bar is everyone
      bars: kinds.map(([kind, found]) => ({ label: t(`dashboard.input.${kind}`), value: (found.outcome_message_share || 0) * 100, text: percent(found.outcome_message_share) })),
      table: dataTable(
        title,
        [t("dashboard.input"), t("dashboard.inputs"), t("dashboard.told"), t("dashboard.share")],
        kinds.map(([kind, found]) =>
          h(
            "tr",
            { dataset: { kind } },
            h("th", { scope: "row" }, t(`dashboard.input.${kind}`)),
            cell("inputs", found.inputs, i18n.number(found.inputs)),
            cell("outcome_messaged", found.outcome_messaged, i18n.number(found.outcome_messaged)),
            cell("outcome_message_share", found.outcome_message_share, percent(found.outcome_message_share)),
          ),
        ),
      ),
    });
  }

  function categoryChart(rows) {
    const name = (code) => categories.get(code) || code;
    const sorted = [...rows].sort((a, b) => b.inputs - a.inputs || String(a.group).localeCompare(String(b.group)));
    const measures = ["inputs", "resolved", "median_hours_to_resolution", "deadline_compliance", "reopen_rate"];
    for (const r of sorted) for (const measure of measures) csvRows.push(["category", r.group, name(r.group), measure, r[measure]]);
    const title = t("dashboard.per_category");
    return chart({
      name: "category",
      title,
      bars: sorted.map((r) => ({ label: name(r.group), value: r.inputs, text: i18n.number(r.inputs) })),
      table: dataTable(
        title,
        [t("dashboard.category"), t("dashboard.inputs"), t("dashboard.resolved"), t("dashboard.figure.median_hours_to_resolution"), t("dashboard.figure.deadline_compliance"), t("dashboard.figure.reopen_rate")],
        sorted.map((r) =>
          h(
            "tr",
            { dataset: { group: r.group } },
            h("th", { scope: "row" }, name(r.group)),
            cell("inputs", r.inputs, i18n.number(r.inputs)),
            cell("resolved", r.resolved, i18n.number(r.resolved)),
            cell("median_hours_to_resolution", r.median_hours_to_resolution, duration(r.median_hours_to_resolution)),
            cell("deadline_compliance", r.deadline_compliance, percent(r.deadline_compliance)),
            cell("reopen_rate", r.reopen_rate, percent(r.reopen_rate)),
          ),
        ),
      ),
    });
  }

  function periodName(group, unit) {
    const [year, part] = group.split(unit === "week" ? "-W" : "-").map(Number);
    if (unit === "week") return t("dashboard.week_label", { week: part, year });
    return new Intl.DateTimeFormat(i18n.language(), { month: "long", year: "numeric", timeZone: "UTC" }).format(Date.UTC(year, part - 1, 1));
  }

  function periodChart(rows, labels, unit) {
    const byGroup = new Map(rows.map((r) => [r.group, r]));
    // Every week or month of the period, also those without reports (the API leaves them out).
    const all = [...new Set([...labels, ...byGroup.keys()])].sort().map((label) => byGroup.get(label) || { group: label, inputs: 0, resolved: 0 });
    for (const r of all) for (const measure of ["inputs", "resolved"]) csvRows.push([unit, r.group, periodName(r.group, unit), measure, r[measure]]);
    const title = unit === "week" ? t("dashboard.per_week") : t("dashboard.per_month");
    return chart({
      name: "period",
      title,
      bars: all.map((r) => ({ label: periodName(r.group, unit), value: r.inputs, text: i18n.number(r.inputs) })),
      table: dataTable(
        title,
        [unit === "week" ? t("dashboard.week") : t("dashboard.month"), t("dashboard.inputs"), t("dashboard.resolved")],
        all.map((r) => h("tr", { dataset: { group: r.group } }, h("th", { scope: "row" }, periodName(r.group, unit)), cell("inputs", r.inputs, i18n.number(r.inputs)), cell("resolved", r.resolved, i18n.number(r.resolved)))),
      ),
    });
  }

  function hotspotSection(spots) {
    const titleId = uid("hotspots");
    const section = h("section", { "aria-labelledby": titleId }, h("h2", { id: titleId }, t("dashboard.hotspots")), h("p", { class: "meta" }, t("dashboard.hotspots_note")));
    spots.forEach((s, i) => {
      for (const measure of ["reports", "open_reports"]) csvRows.push(["hotspot", String(i + 1), categories.get(s.category) || s.category, measure, s[measure]]);
    });
    if (!spots.length) {
      section.append(h("p", {}, t("dashboard.no_hotspots")));
      return section;
    }
    const mapBox = h("div", { class: "map", id: "hotspot-map" });
    section.append(
      mapBox,
      dataTable(
        t("dashboard.hotspots"),
        [t("dashboard.category"), t("dashboard.inputs"), t("dashboard.open"), t("dashboard.last_reported")],
        spots.map((s) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, categories.get(s.category) || s.category),
            cell("reports", s.reports, i18n.number(s.reports)),
            cell("open_reports", s.open_reports, i18n.number(s.open_reports ?? 0)),
            h("td", {}, s.last_reported_at ? i18n.date(s.last_reported_at) : ""),
          ),
        ),
      ),
    );
    drawHotspots(mapBox, spots);
    return section;
  }

  async function drawHotspots(mapBox, spots) {
    try {
      const { createMap } = await import("../js/map.js");
      const points = spots.filter((s) => s.centre?.coordinates);
      if (!points.length || left) return mapBox.remove();
      const lons = points.map((s) => s.centre.coordinates[0]);
      const lats = points.map((s) => s.centre.coordinates[1]);
      const bounds = [[Math.min(...lons) - 0.005, Math.min(...lats) - 0.003], [Math.max(...lons) + 0.005, Math.max(...lats) + 0.003]];
      const handle = await createMap(mapBox, { slug: session.jurisdiction().slug, bounds, reports: false, label: t("dashboard.hotspots_map") });
      if (left || !mapBox.isConnected) return handle.map.remove();
      mapHandle = handle;
      handle.map.addSource("hotspots", {
        type: "geojson",
        data: { type: "FeatureCollection", features: points.map((s) => ({ type: "Feature", geometry: s.centre, properties: { reports: s.reports } })) },
      });
      handle.map.addLayer({
        id: "hotspots",
        type: "circle",
        source: "hotspots",
        paint: {
          "circle-color": "#b00020",
          "circle-opacity": 0.75,
          "circle-radius": ["interpolate", ["linear"], ["get", "reports"], 2, 8, 50, 26],
          "circle-stroke-color": "#ffffff",
          "circle-stroke-width": 2,
        },
      });
      mapBox.dataset.ready = "true";
    } catch (error) {
      console.warn("no map", error);
      mapBox.replaceWith(h("p", { class: "notice warning" }, t("nearby.no_map")));
    }
  }

  function exportCsv() {
    if (!csvRows) return;
    const area = areas.find((a) => a.id === state.areaId);
    const name = (area ? area.name : "gemeente").toLowerCase().replace(/[^a-z0-9]+/g, "-");
    download(`civicloop-${name}-${state.days}d.csv`, toCsv(csvRows));
    announce(t("dashboard.downloaded"));
  }
}
