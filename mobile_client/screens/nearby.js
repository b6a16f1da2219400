// Reports near me: on the map (grid cells with their count when zoomed out, from the API's tiles) and
// the same reports as a list, for screen readers and small screens. A tap on a report shows it.
import { h, heading, statusTag, failure, loading, button } from "../js/ui.js";
import * as geo from "../js/geo.js";

const RADIUS_M = 1000;

function metresBetween([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}

export async function render(main, ctx) {
  const { t, i18n, api, session } = ctx;
  const jurisdiction = session.jurisdiction();
  main.append(heading(t("nearby.title")), h("p", {}, t("nearby.intro")));
  const mapBox = h("div", { class: "map map-tall", id: "nearby-map" });
  const chosen = h("div", { "aria-live": "polite" });
  const showMap = button(t("nearby.hide_map"), () => {
    mapBox.hidden = !mapBox.hidden;
    showMap.textContent = mapBox.hidden ? t("nearby.show_map") : t("nearby.hide_map");
    showMap.setAttribute("aria-expanded", String(!mapBox.hidden));
  }, { kind: "secondary", "aria-controls": "nearby-map", "aria-expanded": "true" });
  const listSection = h("section", { "aria-labelledby": "nearby-list-title" }, h("h2", { id: "nearby-list-title" }, t("nearby.list_title")), loading());
  main.append(h("div", { class: "view-switch" }, showMap), mapBox, chosen, listSection);

  let handle = null;
  let left = false;
  const cleanup = () => {
    left = true;
    handle?.map.remove();
  };
  // Not waited for: the heading has focus and the screen is usable while the position, the list
  // and the map arrive. The map library starts loading at once, beside the rest.
  const mapModule = import("../js/map.js");
  mapModule.then((m) => m.loadMapLibrary()).catch(() => {});
  fill();
  return cleanup;

  async function fill() {
  const position = await geo.once(5000);
  if (left) return;
  const bbox = jurisdiction?.bbox;
  const here = position ? [position.longitude, position.latitude] : bbox ? [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2] : [4.9, 52.37];

  let categories = [];
  const named = api.places.categories().then(
    (found) => {
      categories = found;
    },
    () => {},
  );
  const categoryName = (code) => i18n.pick(categories.find((c) => c.code === code)?.name) || code;

  const showReport = async (id) => {
    chosen.replaceChildren(loading());
    try {
      const report = await api.reports.one(id);
      chosen.replaceChildren(
        h(
          "div",
          { class: "card" },
          report.photos[0] ? h("img", { class: "thumb", src: report.photos[0].thumbnail_url, alt: "" }) : null,
          h(
            "div",
            { class: "body" },
            h("h2", {}, h("a", { class: "title", href: `/reports/${id}` }, t("my_reports.item_title", { id, category: i18n.pick(report.category_name) }))),
            h("p", {}, statusTag(report.status)),
            h("p", {}, report.description),
          ),
        ),
      );
    } catch (error) {
      chosen.replaceChildren(failure(error));
    }
  };

  const loadList = async () => {
    try {
      const [answer] = await Promise.all([api.reports.near(here, RADIUS_M), named]);
      if (left) return;
      listSection.replaceChildren(h("h2", { id: "nearby-list-title" }, t("nearby.list_title")));
      if (!answer.items.length) {
        listSection.append(h("p", {}, t("nearby.empty")));
        return;
      }
      listSection.append(
        h("p", { class: "meta" }, position ? t("nearby.around_you", { count: answer.items.length }) : t("nearby.around_centre", { count: answer.items.length })),
        h(
          "ul",
          { class: "cards" },
          answer.items.map((report) =>
            h(
              "li",
              { class: "card" },
              h(
                "div",
                { class: "body" },
                h("h3", {}, h("a", { class: "title", href: `/reports/${report.id}` }, t("my_reports.item_title", { id: report.id, category: categoryName(report.category) }))),
                h("p", {}, statusTag(report.status), " ", h("span", { class: "meta" }, i18n.distance(metresBetween(here, report.location.coordinates)))),
                h("p", { class: "meta" }, report.description),
              ),
            ),
          ),
        ),
      );
    } catch (error) {
      listSection.replaceChildren(h("h2", { id: "nearby-list-title" }, t("nearby.list_title")), failure(error, loadList));
    }
  };
  loadList();

  try {
    const { createMap } = await mapModule;
    if (left) return;
    handle = await createMap(mapBox, {
      slug: jurisdiction.slug,
      center: here,
      zoom: 15,
      reports: true,
      onReport: showReport,
      label: t("nearby.map_label"),
    });
    if (left) return handle.map.remove();
    mapBox.dataset.ready = "true";
  } catch (error) {
    console.warn("no map", error);
    mapBox.replaceWith(h("p", { class: "notice warning" }, t("nearby.no_map")));
  }
  }
}
