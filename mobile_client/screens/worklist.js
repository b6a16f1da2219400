// The field staff's work list: the open reports of my departments, nearest first from where I stand
// (distance shown), filtered by status and category, as a list or on a map, with the overdue count.
// Changes still waiting on this phone (or refused on replay) are listed at the top.
import { h, heading, statusTag, failure, loading, button, announce } from "../js/ui.js";
import * as geo from "../js/geo.js";

const OPEN = ["submitted", "accepted", "scheduled", "in_progress", "on_hold", "reopened"];
const filters = { status: "", category: "", view: "list" }; // kept while the app is open

export function metresBetween([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}

export function isOverdue(report, now = Date.now()) {
  return Boolean(report.due_at) && new Date(report.due_at).getTime() < now;
}

/** The changes of this kind that wait on this phone or were refused: a notice with links. */
export function pendingNotice(ctx, items) {
  const { t } = ctx;
  const open = items.filter((item) => item.state !== "sent");
  if (!open.length) return null;
  return h(
    "section",
    { class: "notice warning", "aria-labelledby": "pending-title" },
    h("h2", { id: "pending-title" }, t("work.pending_title")),
    h(
      "ul",
      {},
      open.map((item) =>
        h(
          "li",
          {},
          h("a", { href: `/work/${item.summary.reportId}` }, t("work.pending_item", { id: item.summary.reportId })),
          " ",
          statusTag(item.state === "failed" ? "failed" : "waiting"),
        ),
      ),
    ),
  );
}

export async function render(main, ctx) {
  const { t, i18n, api, session, outbox } = ctx;
  main.append(heading(t("work.title")), h("p", {}, t("work.intro")));
  const pending = h("div", {});
  const counts = h("p", { class: "work-counts", "aria-live": "polite" });
  const statusSelect = h(
    "select",
    { id: "work-status", name: "status" },
    h("option", { value: "" }, t("work.all_open")),
    OPEN.map((s) => h("option", { value: s, selected: filters.status === s }, t(`status.${s}`))),
  );
  const categorySelect = h("select", { id: "work-category", name: "category" }, h("option", { value: "" }, t("work.all_categories")));
  const listButton = button(t("work.as_list"), () => show("list"), { kind: "secondary", "aria-pressed": "true" });
  const mapButton = button(t("work.on_map"), () => show("map"), { kind: "secondary", "aria-pressed": "false" });
  const listSection = h("section", { "aria-labelledby": "work-list-title" }, h("h2", { id: "work-list-title" }, t("work.list_title")), loading());
  const mapBox = h("div", { class: "map map-tall", id: "work-map", hidden: true });
  const mapNote = h("p", { class: "meta", hidden: true }, t("work.map_hint"));
  main.append(
    pending,
    counts,
    h(
      "form",
      { class: "filters", "aria-label": t("work.filters"), onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field" }, h("label", { for: "work-status" }, t("work.status")), statusSelect),
      h("div", { class: "field" }, h("label", { for: "work-category" }, t("work.category")), categorySelect),
    ),
    h("div", { class: "view-switch", role: "group", "aria-label": t("work.view") }, listButton, mapButton),
    mapNote,
    mapBox,
    listSection,
  );

  let left = false;
  let here = null;
  let items = [];
  let handle = null;
  let mapModule = null;

  const unsubscribe = outbox.subscribe(() => paintPending());
  paintPending();
  async function paintPending() {
    const waiting = [...(await outbox.items({ kind: "transition" })), ...(await outbox.items({ kind: "merge" }))];
    if (left) return;
    pending.replaceChildren(pendingNotice(ctx, waiting) || "");
  }

  // The categories of my departments (an administrator: all), names in the staff member's language.
  const mine = new Set(session.get()?.departmentIds || []);
  const admin = session.roles().includes("admin");
  api.places.categories().then(
    (categories) => {
      if (left) return;
      const chosen = categories.filter((c) => c.department_id !== null && (admin || mine.has(c.department_id)));
      categorySelect.append(
        ...chosen.map((c) => h("option", { value: c.code, selected: filters.category === c.code }, i18n.pick(c.name))),
      );
    },
    () => {},
  );
  statusSelect.addEventListener("change", () => {
    filters.status = statusSelect.value;
    load();
  });
  categorySelect.addEventListener("change", () => {
    filters.category = categorySelect.value;
    load();
  });

  function show(view) {
    filters.view = view;
    listButton.setAttribute("aria-pressed", String(view === "list"));
    mapButton.setAttribute("aria-pressed", String(view === "map"));
    listSection.hidden = view !== "list";
    mapBox.hidden = view !== "map";
    mapNote.hidden = view !== "map";
    if (view === "map") drawMap();
  }

  // Not awaited: the heading gets focus while the position and the list arrive.
  start();
  return () => {
    left = true;
    unsubscribe();
    handle?.map.remove();
  };

  async function start() {
    const position = await geo.once(5000);
    if (left) return;
    here = position ? [position.longitude, position.latitude] : null;
    await load();
    if (filters.view === "map") show("map");
  }

  async function load() {
    const query = { category: filters.category || undefined, limit: 200 };
    if (filters.status) query.status = filters.status;
    if (here) Object.assign(query, { longitude: here[0], latitude: here[1] });
    listSection.replaceChildren(h("h2", { id: "work-list-title" }, t("work.list_title")), loading());
    try {
      const [found, summary] = await Promise.all([
        api.staff.worklist(query),
        api.staff.summary({ category: filters.category || undefined }),
      ]);
      if (left) return;
      items = found;
      paintCounts(summary);
      paintList();
      if (handle) updateMap();
      announce(t("work.shown", { count: items.length }));
    } catch (error) {
      if (left) return;
      listSection.replaceChildren(h("h2", { id: "work-list-title" }, t("work.list_title")), failure(error, load));
    }
  }

  function paintCounts(summary) {
    counts.replaceChildren(
      h("strong", {}, t("work.open_count", { count: summary.total })),
      " ",
      summary.overdue ? h("span", { class: "tag overdue" }, t("work.overdue_count", { count: summary.overdue })) : t("work.none_overdue"),
    );
  }

  function paintList() {
    listSection.replaceChildren(h("h2", { id: "work-list-title" }, t("work.list_title")));
    listSection.append(h("p", { class: "meta" }, here ? t("work.sorted_near") : t("work.sorted_due")));
    if (!items.length) {
      listSection.append(h("p", {}, t("work.empty")));
      return;
    }
    listSection.append(
      h(
        "ol",
        { class: "cards work-list" },
        items.map((report) => {
          const distance = here ? metresBetween(here, report.location.coordinates) : null;
          return h(
            "li",
            { class: "card", dataset: { reportId: report.id } },
            h(
              "div",
              { class: "body" },
              h("h3", {}, h("a", { class: "title", href: `/work/${report.id}` }, t("work.item_title", { id: report.id, category: i18n.pick(report.category_name) }))),
              h(
                "p",
                {},
                statusTag(report.status),
                " ",
                isOverdue(report) ? h("span", { class: "tag overdue" }, t("work.overdue")) : null,
                distance !== null ? h("span", { class: "distance" }, " ", t("work.distance", { distance: i18n.distance(distance) })) : null,
              ),
              report.address ? h("p", { class: "meta" }, report.address) : null,
              report.due_at ? h("p", { class: "meta" }, t("work.due", { date: i18n.date(report.due_at) })) : null,
              h("p", { class: "meta snippet" }, report.description),
            ),
          );
        }),
      ),
    );
  }

  function features() {
    return {
      type: "FeatureCollection",
      features: items.map((r) => ({ type: "Feature", geometry: r.location, properties: { id: r.id, overdue: isOverdue(r) } })),
    };
  }

  function updateMap() {
    handle.map.getSource("work")?.setData(features());
  }

  async function drawMap() {
    if (handle || left) return;
    mapModule ??= import("../js/map.js");
    try {
      const { createMap } = await mapModule;
      const center = here || (items[0]?.location.coordinates ?? [4.9, 52.37]);
      const created = await createMap(mapBox, { slug: session.jurisdiction().slug, center, zoom: 15, reports: false, label: t("work.map_label") });
      if (left) return created.map.remove();
      handle = created;
      const { map, maplibregl } = handle;
      map.addSource("work", { type: "geojson", data: features() });
      map.addLayer({
        id: "work",
        type: "circle",
        source: "work",
        paint: {
          "circle-color": ["case", ["get", "overdue"], "#b00020", "#0b5563"],
          "circle-radius": 11,
          "circle-stroke-color": "#ffffff",
          "circle-stroke-width": 3,
        },
      });
      map.on("click", "work", (event) => {
        const id = event.features?.[0]?.properties?.id;
        if (id) ctx.navigate(`/work/${id}`);
      });
      if (here) {
        const me = document.createElement("span");
        me.className = "here-marker";
        me.setAttribute("role", "img");
        me.setAttribute("aria-label", t("work.you_are_here"));
        new maplibregl.Marker({ element: me }).setLngLat(here).addTo(map);
      }
      mapBox.dataset.ready = "true";
    } catch (error) {
      console.warn("no map", error);
      mapBox.replaceWith(h("p", { class: "notice warning" }, t("nearby.no_map")));
    }
  }
}
