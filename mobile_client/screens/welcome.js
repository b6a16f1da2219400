// First start: no account needed. The language (from the browser, switchable), the municipality
// (the only one, or the one where the phone is), then an anonymous registration of this device.
import { h, heading, choices, field, button, showErrors, apiErrors, failure, loading } from "../js/ui.js";
import * as geo from "../js/geo.js";

export async function render(main, ctx) {
  const { t, api, session, i18n } = ctx;
  const next = ctx.query.get("next") || "/";
  if (session.isRegistered()) {
    ctx.navigate(next, { replace: true });
    return;
  }
  main.append(heading(t("welcome.title")), h("p", {}, t("welcome.intro")), h("p", {}, t("welcome.no_account")));
  const language = choices({
    legend: t("welcome.language"),
    name: "language",
    options: [
      { value: "nl", label: "Nederlands" },
      { value: "en", label: "English" },
    ],
    value: i18n.language(),
    onchange: async (event) => {
      await i18n.setLanguage(event.target.value);
      ctx.rerender();
    },
  });
  main.append(language);
  const place = h("div", {}, loading());
  main.append(place);

  let jurisdictions;
  try {
    jurisdictions = await api.places.jurisdictions();
  } catch (error) {
    place.replaceChildren(failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  let chosen = jurisdictions[0];
  const select = h(
    "select",
    { name: "jurisdiction" },
    jurisdictions.map((j) => h("option", { value: j.slug }, j.name)),
  );
  if (jurisdictions.length === 1) {
    place.replaceChildren(h("p", {}, t("welcome.municipality_only", { name: chosen.name })));
  } else {
    place.replaceChildren(field({ label: t("welcome.municipality"), hint: t("welcome.municipality_hint"), control: select, name: "jurisdiction" }));
    // Where is the phone? Pick that municipality (the resident can still change it).
    geo.once().then(async (position) => {
      if (!position || !ctx.isCurrent()) return;
      try {
        const here = await api.places.jurisdictions([position.longitude, position.latitude]);
        if (here.length) select.value = here[0].slug;
      } catch {
        // keep the first one
      }
    });
  }
  const form = h("form", { novalidate: true });
  const start = button(t("welcome.start"), null, { type: "submit" });
  form.append(h("div", { class: "actions" }, start));
  const key = api.newKey();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (jurisdictions.length > 1) chosen = jurisdictions.find((j) => j.slug === select.value) || chosen;
    start.disabled = true;
    try {
      await session.registerDevice({ slug: chosen.slug, name: chosen.name, bbox: chosen.bbox ?? null }, i18n.language(), key);
      ctx.navigate(next, { replace: true });
    } catch (error) {
      start.disabled = false;
      showErrors(main, apiErrors(error));
    }
  });
  main.append(form, h("p", { class: "meta" }, t("welcome.privacy")));
}
