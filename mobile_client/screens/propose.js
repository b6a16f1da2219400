// Send an idea for a budget round: title, what it is, where (a pin, or the whole neighbourhood), what
// it may cost, photos. Like a report it goes through the outbox with its Idempotency-Key, so it is
// sent once, now or when the network is back. Who may send one is said before the form.
import { h, heading, field, choices, button, showErrors, clearErrors, apiErrors, announce, failure, errorSentence, uid } from "../js/ui.js";
import * as geo from "../js/geo.js";
import { prepare, MAX_PHOTOS, PhotoError } from "../js/photos.js";
import { money, put } from "../js/participation.js";

// What the resident typed survives leaving the screen (not a ballot: an idea is public).
const drafts = new Map();

function newDraft() {
  return { title: "", description: "", place: "point", location: null, cost: "", photos: [] };
}

export async function render(main, ctx) {
  const { t, i18n, api, session } = ctx;
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id < 1) return ctx.navigate("/not-found", { replace: true });
  const slug = session.jurisdiction().slug;
  put(main, heading(t("propose.title")));
  let round;
  let eligibility = null;
  try {
    round = await api.rounds.one(slug, id);
  } catch (error) {
    put(main, failure(error, () => ctx.rerender()));
    return;
  }
  try {
    eligibility = await api.rounds.eligibility(slug, id);
  } catch (error) {
    if (!error.offline) {
      put(main, failure(error, () => ctx.rerender()));
      return;
    }
  }
  if (!ctx.isCurrent()) return;
  put(main, h("p", {}, t("propose.intro", { round: round.title })));
  if (round.phase !== "proposals") {
    put(main, h("p", { class: "notice warning" }, t("errors.proposals-closed")), h("p", {}, h("a", { href: `/rounds/${id}` }, t("propose.back_to_round"))));
    return;
  }
  if (eligibility && !eligibility.eligible) {
    put(main, 
      h("div", { class: "notice warning" }, h("p", {}, errorSentence({ code: eligibility.reason })), h("p", {}, t("propose.how_to_take_part"))),
      h("p", {}, h("a", { href: "/account" }, t("propose.make_account"))),
    );
    return;
  }
  if (!eligibility) put(main, h("p", { class: "notice" }, t("propose.offline_note")));

  const draft = drafts.get(id) ?? newDraft();
  drafts.set(id, draft);
  const form = h("form", { novalidate: true });
  const title = h("input", { type: "text", name: "title", maxLength: 200, value: draft.title, autocomplete: "off" });
  title.addEventListener("input", () => (draft.title = title.value));
  const description = h("textarea", { name: "description", rows: 5, maxLength: 20000 });
  description.value = draft.description;
  description.addEventListener("input", () => (draft.description = description.value));
  const cost = h("input", { type: "text", name: "estimated_cost", inputMode: "numeric", value: draft.cost, autocomplete: "off" });
  cost.addEventListener("input", () => (draft.cost = cost.value));
  put(form, 
    field({ label: t("propose.idea_title"), hint: t("propose.idea_title_hint"), control: title, name: "title" }),
    field({ label: t("propose.description"), hint: t("propose.description_hint"), control: description, name: "description" }),
  );

  // Where: a pin on the map, or the whole neighbourhood (the map's alternative).
  const mapBox = h("div", { class: "map", id: "propose-map" });
  const placeText = h("p", { class: "meta", "aria-live": "polite" });
  const mapPart = h("div", { class: "field", dataset: { field: "location" } }, h("p", { class: "field-error", hidden: true }), h("p", { class: "hint" }, t("propose.pin_hint")), mapBox, placeText);
  const place = choices({
    legend: t("propose.where"),
    name: "place",
    options: [
      { value: "point", label: t("propose.where_point") },
      { value: "area", label: t("propose.where_area") },
    ],
    value: draft.place,
    onchange: (event) => {
      draft.place = event.target.value;
      mapPart.hidden = draft.place !== "point";
    },
  });
  mapPart.hidden = draft.place !== "point";
  put(form, place, mapPart);
  put(form, field({ label: t("propose.cost"), hint: t("propose.cost_hint"), control: cost, name: "estimated_cost" }));

  const photoList = h("ul", { class: "photos", "aria-label": t("propose.photos_list") });
  const picker = h("input", { type: "file", accept: "image/*", multiple: true, name: "photos" });
  const renderPhotos = () => {
    photoList.replaceChildren(
      ...draft.photos.map((photo, index) => {
        photo.preview ??= URL.createObjectURL(photo.blob);
        return h(
          "li",
          { class: "photo-item" },
          h("img", { src: photo.preview, alt: t("propose.photo_alt", { number: index + 1 }) }),
          button(t("propose.remove_photo", { number: index + 1 }), () => {
            draft.photos.splice(index, 1);
            renderPhotos();
            announce(t("propose.photo_removed"));
          }, { kind: "link" }),
        );
      }),
    );
    picker.disabled = draft.photos.length >= MAX_PHOTOS;
  };
  picker.addEventListener("change", async () => {
    clearErrors(main);
    const files = [...picker.files];
    picker.value = "";
    for (const file of files.slice(0, MAX_PHOTOS - draft.photos.length)) {
      try {
        const ready = await prepare(file);
        draft.photos.push({ local: uid("photo"), blob: ready.blob, name: ready.name, key: api.newKey(), uploadedId: null });
        renderPhotos();
        announce(t("propose.photo_added"));
      } catch (error) {
        showErrors(main, [{ field: "photos", message: t(`errors.${error instanceof PhotoError ? error.code : "photo-unreadable"}`) }]);
      }
    }
  });
  put(form, field({ label: t("propose.photos"), hint: t("propose.photos_hint", { count: MAX_PHOTOS }), control: picker, name: "photos", optional: true }), photoList);
  renderPhotos();
  const send = button(t("propose.send"), null, { type: "submit" });
  put(form, h("div", { class: "actions" }, send));
  put(main, form);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(main);
    const amount = Number(draft.cost.replace(/[€\s.]/g, "").replace(",", "."));
    const problems = [];
    if (draft.title.trim().length < 3) problems.push({ field: "title", message: t("propose.title_missing") });
    if (!draft.description.trim()) problems.push({ field: "description", message: t("propose.description_missing") });
    if (draft.place === "point" && !draft.location) problems.push({ field: "location", message: t("propose.location_missing") });
    if (!(amount > 0)) problems.push({ field: "estimated_cost", message: t("propose.cost_missing") });
    if (problems.length) return showErrors(main, problems);
    send.disabled = true;
    const body = {
      title: draft.title.trim(),
      description: draft.description.trim(),
      estimated_cost: amount.toFixed(2),
    };
    if (draft.place === "point") body.location = { type: "Point", coordinates: draft.location.map((v) => Math.round(v * 1e7) / 1e7) };
    else body.area_id = round.area_id;
    const item = await ctx.outbox.enqueue(
      "proposal",
      { jurisdiction: slug, roundId: id, body, photos: draft.photos.map(({ blob, name, key, uploadedId }) => ({ blob, name, key, uploadedId })) },
      { summary: { title: body.title, roundId: id } },
    );
    const status = h("p", { class: "notice", role: "status" }, t("propose.sending"));
    form.before(status);
    // Offline it waits in the outbox (sent on "online", at the next start or by Background Sync).
    const done = navigator.onLine ? await ctx.outbox.settled(item.id, 8000) : await ctx.outbox.get(item.id);
    if (!ctx.isCurrent()) return;
    if (done?.state === "sent") {
      drafts.delete(id);
      main.replaceChildren(
        heading(t("propose.sent_title")),
        h("p", { class: "notice success", role: "status" }, t("propose.sent", { title: body.title, amount: money(i18n, amount, round.currency) })),
        h("div", { class: "actions" }, h("a", { class: "button primary", href: `/rounds/${id}/projects/${done.result.proposalId}` }, t("propose.see_idea")), h("a", { class: "button secondary", href: `/rounds/${id}` }, t("propose.back_to_round"))),
      );
      main.querySelector("h1").focus();
    } else if (done?.state === "failed") {
      status.remove();
      send.disabled = false;
      await ctx.outbox.discard(done.id);
      const known = ["title", "description", "location", "estimated_cost", "photos"];
      showErrors(main, apiErrors(done.error, known).map((e) => (e.field ? e : { ...e, message: errorSentence(done.error) })));
    } else {
      drafts.delete(id);
      status.textContent = t("propose.waiting");
      send.replaceWith(h("a", { class: "button secondary", href: `/rounds/${id}` }, t("propose.back_to_round")));
    }
  });

  // The map last, not waited for: the form works without it (the whole neighbourhood).
  let handle = null;
  let left = false;
  drawMap();
  return () => {
    left = true;
    handle?.map.remove();
  };

  async function drawMap() {
    try {
      const { createMap, addPin } = await import("../js/map.js");
      const position = draft.location ? null : await geo.once(3000);
      if (left) return;
      const start = draft.location || (position ? [position.longitude, position.latitude] : null);
      const bbox = session.jurisdiction()?.bbox;
      handle = await createMap(mapBox, {
        slug,
        center: start || undefined,
        bounds: !start && bbox ? [[bbox[0], bbox[1]], [bbox[2], bbox[3]]] : undefined,
        zoom: 16,
        reports: false,
        label: t("propose.map_label"),
      });
      if (left) return handle.map.remove();
      const show = (where) => {
        draft.location = where;
        mapBox.dataset.location = `${where[0].toFixed(6)},${where[1].toFixed(6)}`;
        placeText.textContent = t("propose.pin_at", { lat: where[1].toFixed(5), lon: where[0].toFixed(5) });
      };
      addPin(handle, start || handle.map.getCenter().toArray(), { label: t("propose.pin_label"), onMove: show });
      put(mapBox, h("p", { class: "visually-hidden" }, t("report.location.pin_keys")));
      show(start || handle.map.getCenter().toArray());
      mapBox.dataset.ready = "true";
    } catch (error) {
      console.warn("no map", error);
      mapBox.replaceWith(h("p", { class: "notice warning" }, t("propose.no_map")));
    }
  }
}
