// Report a problem, one question per step (Signalen's wizard, GOV.UK's pattern): where, what (with
// the category's own questions), already reported nearby? ("me too" in one tap), photos and
// description, contact (never public), check and send. Sending puts the whole report, photos
// included, in the outbox with its Idempotency-Key: it goes now, or when the network is back.
import {
  h,
  heading,
  field,
  choices,
  button,
  showErrors,
  clearErrors,
  apiErrors,
  announce,
  statusTag,
  errorSentence,
  uid,
} from "../js/ui.js";
import * as geo from "../js/geo.js";
import { prepare, MAX_PHOTOS, PhotoError } from "../js/photos.js";

const STEPS = ["location", "category", "duplicates", "details", "contact", "check"];
let draft = null;

function newDraft() {
  return {
    step: "location",
    location: null,
    accuracy: null,
    pinMoved: false,
    address: "",
    category: null,
    extra: {},
    description: "",
    photos: [],
    contact: { email: "", phone: "" },
    duplicates: [],
  };
}

/** Open the wizard on a report that the server refused (from My reports), to fix and send again. */
export function editFailed(item) {
  const { body, photos } = item.payload;
  draft = {
    ...newDraft(),
    step: "check",
    location: body.location.coordinates,
    pinMoved: true,
    address: body.address || "",
    category: body.category,
    extra: body.extra || {},
    description: body.description,
    photos: photos.map((p) => ({ ...p, local: uid("photo"), progress: p.uploadedId ? 1 : 0 })),
    contact: { email: body.contact?.email || "", phone: body.contact?.phone || "" },
    errors: item.error,
  };
}

export async function render(main, ctx) {
  draft ??= newDraft();
  const state = { categories: null, stop: [] };
  const cleanup = () => {
    for (const stop of state.stop.splice(0)) stop();
  };
  const show = async (step) => {
    cleanup();
    draft.step = step;
    main.replaceChildren();
    await STEP_VIEWS[step](main, ctx, state, show);
    if (!ctx.isCurrent()) return;
    main.querySelector("h1")?.focus();
    if (draft.errors) {
      showFieldErrors(main, ctx, draft.errors);
      draft.errors = null;
    }
  };
  await STEP_VIEWS[draft.step](main, ctx, state, show);
  return cleanup;
}

function stepLine(ctx, step) {
  const visible = STEPS.filter((s) => s !== "duplicates" || draft.duplicates.length);
  const index = visible.indexOf(step) + 1;
  return h("p", { class: "steps" }, ctx.t("report.step", { step: index, total: visible.length }));
}

function backButton(ctx, show, step) {
  return button(ctx.t("common.back"), () => show(step), { kind: "secondary" });
}

function showFieldErrors(main, ctx, error) {
  showErrors(main, apiErrors(error));
}

// ---------------------------------------------------------------------------------------------
// 1. Where?

async function locationStep(main, ctx, state, show) {
  const { t } = ctx;
  const slug = ctx.session.jurisdiction().slug;
  main.append(heading(t("report.location.title")), stepLine(ctx, "location"), h("p", {}, t("report.location.intro")));
  const gpsText = h("p", { class: "notice", id: "gps-status" }, t("report.location.searching"));
  const placeText = h("p", { class: "meta", id: "place-names" });
  const mapBox = h("div", { class: "map", id: "report-map" });
  // Everything is in place before the map arrives: nothing moves under the resident's finger.
  const dragHint = h("p", { class: "hint" }, t("report.location.drag_hint"));
  main.append(gpsText, dragHint, mapBox, placeText);
  let pin = null;
  let mapHandle = null;
  let mapModule = null;

  const showPlace = () => {
    if (!draft.location) return;
    const [lon, lat] = draft.location;
    mapBox.dataset.location = `${lon.toFixed(6)},${lat.toFixed(6)}`; // for tests and debugging
    const names = mapHandle ? mapModule.areasAt(mapHandle.map, draft.location) : [];
    placeText.textContent = names.length
      ? t("report.location.in_area", { names: names.join(", ") })
      : t("report.location.coordinates", { lat: lat.toFixed(5), lon: lon.toFixed(5) });
  };

  const setAccuracyText = () => {
    if (draft.pinMoved) {
      gpsText.textContent = t("report.location.pin_placed");
    } else if (draft.accuracy === null) {
      gpsText.textContent = t("report.location.searching");
    } else if (draft.accuracy <= geo.GOOD_ENOUGH_M) {
      gpsText.textContent = t("report.location.found", { metres: Math.round(draft.accuracy) });
    } else {
      gpsText.textContent = t("report.location.inaccurate", { metres: Math.round(draft.accuracy) });
    }
  };

  const stop = geo.watch(
    (position) => {
      if (draft.pinMoved) return;
      const wasGood = draft.accuracy !== null && draft.accuracy <= geo.GOOD_ENOUGH_M;
      draft.location = [position.longitude, position.latitude];
      draft.accuracy = position.accuracy;
      pin?.set(draft.location);
      if (mapHandle && !wasGood) mapHandle.map.jumpTo({ center: draft.location, zoom: Math.max(17, mapHandle.map.getZoom()) });
      setAccuracyText();
      showPlace();
      if (!wasGood && position.accuracy <= geo.GOOD_ENOUGH_M) announce(gpsText.textContent);
    },
    (code) => {
      if (draft.pinMoved || draft.location) return;
      gpsText.textContent = t(`report.location.gps_${code}`);
    },
  );
  state.stop.push(stop);
  setAccuracyText();

  const address = h("input", { type: "text", name: "address", autocomplete: "street-address", value: draft.address });
  address.addEventListener("input", () => {
    draft.address = address.value;
  });
  main.append(
    field({ label: t("report.location.address"), hint: t("report.location.address_hint"), control: address, name: "address", optional: true }),
  );
  const actions = h(
    "div",
    { class: "actions" },
    button(t("report.location.use_gps"), () => {
      draft.pinMoved = false;
      draft.accuracy = null;
      setAccuracyText();
      geo.once().then((position) => {
        if (!position) return;
        draft.location = [position.longitude, position.latitude];
        draft.accuracy = position.accuracy;
        pin?.set(draft.location);
        mapHandle?.map.jumpTo({ center: draft.location, zoom: Math.max(17, mapHandle.map.getZoom()) });
        setAccuracyText();
        showPlace();
      });
    }, { kind: "secondary" }),
    button(t("common.next"), () => {
      clearErrors(main);
      if (!draft.location) {
        showErrors(main, [{ field: "location", message: t("report.location.missing") }]);
      } else if (!draft.pinMoved && draft.accuracy > geo.GOOD_ENOUGH_M) {
        showErrors(main, [{ field: "location", message: t("report.location.not_accurate") }]);
      } else {
        show("category");
      }
    }),
  );
  main.append(actions);
  // The error slot of the location question sits above the map.
  const slot = h("div", { class: "field", dataset: { field: "location" } }, h("p", { class: "field-error", hidden: true }));
  gpsText.before(slot);

  // The map comes last and is not waited for: the form is usable before it has loaded (and without it).
  showMap();
  async function showMap() {
  try {
    mapModule = await import("../js/map.js");
    const { createMap, addPin } = mapModule;
    if (!ctx.isCurrent()) return;
    const bounds = ctx.session.jurisdiction().bbox;
    mapHandle = await createMap(mapBox, {
      slug,
      center: draft.location || (bounds ? null : undefined),
      bounds: bounds ? [[bounds[0], bounds[1]], [bounds[2], bounds[3]]] : undefined,
      zoom: draft.location ? 17 : 12,
      reports: false,
      label: t("report.location.map_label"),
    });
    if (!ctx.isCurrent() || draft?.step !== "location") return mapHandle.map.remove();
    state.stop.push(() => mapHandle.map.remove());
    mapBox.dataset.ready = "true";
    // The position may have come while the map was loading.
    if (draft.location) mapHandle.map.jumpTo({ center: draft.location, zoom: Math.max(17, mapHandle.map.getZoom()) });
    const start = draft.location || mapHandle.map.getCenter().toArray();
    pin = addPin(mapHandle, start, {
      label: t("report.location.pin_label"),
      onMove: (position) => {
        draft.location = position;
        draft.pinMoved = true;
        setAccuracyText();
        showPlace();
        announce(placeText.textContent);
      },
    });
    mapBox.append(h("p", { class: "visually-hidden" }, t("report.location.pin_keys")));
    mapHandle.map.on("idle", showPlace);
    showPlace();
  } catch (error) {
    console.warn("no map", error);
    dragHint.remove();
    mapBox.replaceWith(h("p", { class: "notice warning" }, t("report.location.no_map")));
  }
  }
}

// ---------------------------------------------------------------------------------------------
// 2. What?

async function categoryStep(main, ctx, state, show) {
  const { t, i18n } = ctx;
  main.append(heading(t("report.category.title")), stepLine(ctx, "category"));
  let categories;
  try {
    state.categories ??= await ctx.api.places.categories(ctx.session.jurisdiction().slug);
    categories = state.categories.filter((c) => c.is_active);
  } catch (error) {
    main.append(h("p", { class: "notice warning" }, errorSentence(error)), backButton(ctx, show, "location"));
    return;
  }
  const parents = new Set(categories.map((c) => c.parent).filter(Boolean));
  const leaves = categories.filter((c) => !parents.has(c.code));
  const groups = new Map();
  for (const leaf of leaves) {
    const parent = categories.find((c) => c.code === leaf.parent);
    const key = parent ? parent.code : leaf.code;
    if (!groups.has(key)) groups.set(key, { name: i18n.pick((parent || leaf).name), items: [] });
    groups.get(key).items.push(leaf);
  }
  const search = h("input", { type: "search", name: "category-search", autocomplete: "off" });
  main.append(field({ label: t("report.category.search"), hint: t("report.category.search_hint"), control: search }));
  const count = h("p", { class: "meta", "aria-live": "polite" });
  const tree = h("div", { class: "field", dataset: { field: "category" } }, h("p", { class: "field-error", hidden: true }));
  const extraBox = h("div", {});
  const renderExtra = () => {
    extraBox.replaceChildren();
    const category = categories.find((c) => c.code === draft.category);
    if (!category?.extra_fields?.length) return;
    extraBox.append(h("h2", {}, t("report.category.more_questions")));
    for (const spec of [...category.extra_fields].sort((a, b) => (a.order ?? 0) - (b.order ?? 0))) {
      extraBox.append(extraField(ctx, spec));
    }
  };
  for (const [code, group] of groups) {
    const set = choices({
      legend: group.name,
      name: "category",
      options: group.items.map((c) => ({ value: c.code, label: i18n.pick(c.name) })),
      value: draft.category,
      onchange: (event) => {
        if (draft.category !== event.target.value) draft.extra = {};
        draft.category = event.target.value;
        renderExtra();
      },
    });
    set.dataset.group = code;
    set.classList.remove("field");
    for (const choice of set.querySelectorAll(".choice")) {
      const item = group.items.find((c) => c.code === choice.querySelector("input").value);
      // Names in every language and the keywords: "lamp" finds the street light, in Dutch or English.
      choice.dataset.words = [...Object.values(item.name || {}), ...Object.values(group.name === i18n.pick(item.name) ? {} : (categories.find((c) => c.code === code)?.name || {})), ...(item.keywords || [])]
        .join(" ")
        .toLowerCase();
    }
    tree.append(set);
  }
  search.addEventListener("input", () => {
    const words = search.value.trim().toLowerCase();
    let shown = 0;
    for (const set of tree.querySelectorAll("fieldset")) {
      let any = false;
      for (const choice of set.querySelectorAll(".choice")) {
        const hit = !words || choice.dataset.words.includes(words);
        choice.hidden = !hit;
        any ||= hit;
        shown += hit ? 1 : 0;
      }
      set.hidden = !any;
    }
    count.textContent = words ? t("report.category.matches", { count: shown }) : "";
  });
  main.append(count, tree, extraBox);
  renderExtra();
  main.append(
    h(
      "div",
      { class: "actions" },
      backButton(ctx, show, "location"),
      button(t("common.next"), async () => {
        clearErrors(main);
        const errors = [];
        if (!draft.category) errors.push({ field: "category", message: t("report.category.missing") });
        const category = categories.find((c) => c.code === draft.category);
        for (const spec of category?.extra_fields || []) {
          const value = draft.extra[spec.code];
          if (spec.required && (value === undefined || value === "" || (Array.isArray(value) && !value.length))) {
            errors.push({ field: `extra.${spec.code}`, message: t("errors.field.required") });
          }
        }
        if (errors.length) return showErrors(main, errors);
        draft.duplicates = [];
        if (navigator.onLine) {
          try {
            draft.duplicates = await ctx.api.reports.duplicates(draft.category, draft.location);
          } catch {
            draft.duplicates = [];
          }
        }
        show(draft.duplicates.length ? "duplicates" : "details");
      }),
    ),
  );
}

/** One of a category's own questions, named `extra.<code>` so the API's message lands next to it. */
function extraField(ctx, spec) {
  const { t, i18n } = ctx;
  const name = `extra.${spec.code}`;
  const label = i18n.pick(spec.label);
  const hint = spec.description ? i18n.pick(spec.description) : undefined;
  const value = draft.extra[spec.code];
  const save = (v) => {
    if (v === "" || v === undefined || (Array.isArray(v) && !v.length)) delete draft.extra[spec.code];
    else draft.extra[spec.code] = v;
  };
  if (spec.type === "singlevaluelist" || spec.type === "multivaluelist") {
    const multiple = spec.type === "multivaluelist";
    const set = choices({
      legend: spec.required ? label : `${label} ${t("form.optional")}`,
      name,
      type: multiple ? "checkbox" : "radio",
      hint,
      options: spec.options.map((o) => ({ value: o.key, label: i18n.pick(o.label) })),
      value,
      onchange: () => {
        const checked = [...set.querySelectorAll("input:checked")].map((i) => i.value);
        save(multiple ? checked : checked[0]);
      },
    });
    return set;
  }
  let control;
  if (spec.type === "text") control = h("textarea", { name, rows: 4 });
  else if (spec.type === "datetime") control = h("input", { type: "datetime-local", name });
  else control = h("input", { type: "text", name, inputMode: spec.type === "number" ? "decimal" : "text" });
  if (value !== undefined) control.value = spec.type === "datetime" ? String(value).slice(0, 16) : value;
  control.addEventListener("input", () => {
    const raw = control.value.trim();
    if (spec.type === "number") save(raw === "" ? undefined : Number.isFinite(Number(raw.replace(",", "."))) ? Number(raw.replace(",", ".")) : raw);
    else if (spec.type === "datetime") save(raw ? new Date(raw).toISOString() : undefined);
    else save(raw);
  });
  return field({ label, hint, control, name, optional: !spec.required });
}

// ---------------------------------------------------------------------------------------------
// 3. Already reported?

async function duplicatesStep(main, ctx, state, show) {
  const { t, i18n } = ctx;
  main.append(heading(t("report.duplicates.title")), stepLine(ctx, "duplicates"), h("p", {}, t("report.duplicates.intro")));
  const list = h("ul", { class: "cards" });
  for (const candidate of draft.duplicates) {
    const thumb = candidate.thumbnail_url ? h("img", { class: "thumb", src: candidate.thumbnail_url, alt: "" }) : null;
    const meToo = button(t("report.duplicates.me_too"), async () => {
      meToo.disabled = true;
      const item = await ctx.outbox.enqueue(
        "support",
        { jurisdiction: ctx.session.jurisdiction().slug, reportId: candidate.id },
        { summary: { reportId: candidate.id } },
      );
      draft = null;
      main.replaceChildren(heading(t("report.duplicates.thanks_title")));
      const statusLine = h("p", { class: "notice success", role: "status" }, t("report.sending"));
      main.append(statusLine, h("p", {}, h("a", { href: `/reports/${candidate.id}` }, t("report.duplicates.view", { id: candidate.id }))));
      main.querySelector("h1").focus();
      const done = await ctx.outbox.settled(item.id, 8000);
      if (done?.state === "sent") statusLine.textContent = t("report.duplicates.thanks", { count: done.result.supporters });
      else if (done?.state === "failed") statusLine.textContent = errorSentence(done.error);
      else statusLine.textContent = t("report.waiting_for_network");
    }, { "aria-describedby": `dup-${candidate.id}` });
    list.append(
      h(
        "li",
        { class: "card" },
        thumb,
        h(
          "div",
          { class: "body", id: `dup-${candidate.id}` },
          h("h2", {}, t("report.duplicates.candidate", { id: candidate.id })),
          h("p", {}, statusTag(candidate.status), " ", t("report.duplicates.distance", { distance: i18n.distance(candidate.distance_m) })),
          h("p", {}, candidate.description),
          h("p", { class: "meta" }, t("report.duplicates.since", { date: i18n.date(candidate.created_at), count: candidate.supporters })),
        ),
        meToo,
      ),
    );
  }
  main.append(
    list,
    h("div", { class: "actions" }, backButton(ctx, show, "category"), button(t("report.duplicates.not_these"), () => show("details"))),
  );
}

// ---------------------------------------------------------------------------------------------
// 4. Photos and description

async function detailsStep(main, ctx, state, show) {
  const { t } = ctx;
  main.append(heading(t("report.details.title")), stepLine(ctx, "details"));
  const photoList = h("ul", { class: "photos", "aria-label": t("report.details.photos_list") });
  const picker = h("input", { type: "file", accept: "image/*", multiple: true, name: "photos" });
  const pickerField = field({ label: t("report.details.photos"), hint: t("report.details.photos_hint", { count: MAX_PHOTOS }), control: picker, name: "photos", optional: true });
  const renderPhotos = () => {
    photoList.replaceChildren(
      ...draft.photos.map((photo, index) => {
        photo.preview ??= photo.blob ? URL.createObjectURL(photo.blob) : null;
        const progress = photo.uploadedId
          ? h("span", { class: "meta" }, t("report.details.photo_uploaded"))
          : photo.uploading
            ? h("progress", { max: 1, value: photo.progress || 0, "aria-label": t("report.details.photo_progress", { number: index + 1 }) })
            : h("span", { class: "meta" }, t("report.details.photo_waiting"));
        return h(
          "li",
          { class: "photo-item" },
          photo.preview ? h("img", { src: photo.preview, alt: t("report.details.photo_alt", { number: index + 1 }) }) : null,
          progress,
          button(t("report.details.remove_photo", { number: index + 1 }), () => {
            draft.photos.splice(index, 1);
            renderPhotos();
            announce(t("report.details.photo_removed"));
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
    const room = MAX_PHOTOS - draft.photos.length;
    if (files.length > room) showErrors(main, [{ field: "photos", message: t("report.details.too_many", { count: MAX_PHOTOS }) }]);
    for (const file of files.slice(0, room)) {
      try {
        const ready = await prepare(file);
        const photo = { local: uid("photo"), blob: ready.blob, name: ready.name, key: ctx.api.newKey(), uploadedId: null, progress: 0 };
        draft.photos.push(photo);
        renderPhotos();
        announce(t("report.details.photo_added"));
        upload(ctx, photo, renderPhotos);
      } catch (error) {
        const code = error instanceof PhotoError ? error.code : "photo-unreadable";
        showErrors(main, [{ field: "photos", message: t(`errors.${code}`) }]);
      }
    }
  });
  main.append(pickerField, photoList);
  renderPhotos();
  const description = h("textarea", { name: "description", rows: 5, maxLength: 5000 });
  description.value = draft.description;
  description.addEventListener("input", () => {
    draft.description = description.value;
  });
  main.append(field({ label: t("report.details.description"), hint: t("report.details.description_hint"), control: description, name: "description" }));
  main.append(
    h(
      "div",
      { class: "actions" },
      backButton(ctx, show, draft.duplicates.length ? "duplicates" : "category"),
      button(t("common.next"), () => {
        clearErrors(main);
        if (!draft.description.trim()) {
          return showErrors(main, [{ field: "description", message: t("report.details.description_missing") }]);
        }
        show("contact");
      }),
    ),
  );
}

/** Upload a photo as soon as it is picked (when online), with progress; the outbox does it later otherwise. */
async function upload(ctx, photo, rerender) {
  if (!navigator.onLine || photo.uploadedId || photo.uploading) return;
  photo.uploading = true;
  rerender();
  try {
    const answer = await ctx.api.reports.uploadPhoto(ctx.session.jurisdiction().slug, photo.blob, photo.name, {
      idempotencyKey: photo.key,
      onProgress: (fraction) => {
        photo.progress = fraction;
        const bar = document.querySelector(`progress[aria-label]`);
        if (bar && draft?.photos.includes(photo)) rerender();
      },
    });
    photo.uploadedId = answer.id;
    photo.blob = null;
  } catch {
    // Offline or refused: the outbox uploads it with the report (and shows a refusal there).
  } finally {
    photo.uploading = false;
    if (draft?.photos.includes(photo)) rerender();
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Contact

async function contactStep(main, ctx, state, show) {
  const { t } = ctx;
  main.append(heading(t("report.contact.title")), stepLine(ctx, "contact"), h("p", {}, t("report.contact.intro")));
  main.append(h("p", { class: "notice private" }, t("report.contact.never_public")));
  const email = h("input", { type: "email", name: "contact.email", autocomplete: "email", value: draft.contact.email });
  const phone = h("input", { type: "tel", name: "contact.phone", autocomplete: "tel", value: draft.contact.phone });
  email.addEventListener("input", () => {
    draft.contact.email = email.value.trim();
  });
  phone.addEventListener("input", () => {
    draft.contact.phone = phone.value.trim();
  });
  main.append(
    field({ label: t("report.contact.email"), control: email, name: "contact.email", optional: true }),
    field({ label: t("report.contact.phone"), hint: t("report.contact.phone_hint"), control: phone, name: "contact.phone", optional: true }),
    h(
      "div",
      { class: "actions" },
      backButton(ctx, show, "details"),
      button(t("common.next"), () => {
        clearErrors(main);
        if (draft.contact.email && !email.checkValidity()) {
          return showErrors(main, [{ field: "contact.email", message: t("errors.field.email") }]);
        }
        show("check");
      }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// 6. Check and send

function reportBody() {
  const contact = {};
  if (draft.contact.email) contact.email = draft.contact.email;
  if (draft.contact.phone) contact.phone = draft.contact.phone;
  const body = {
    category: draft.category,
    location: { type: "Point", coordinates: draft.location.map((v) => Math.round(v * 1e7) / 1e7) },
    description: draft.description.trim(),
    extra: draft.extra,
  };
  if (draft.address.trim()) body.address = draft.address.trim();
  if (Object.keys(contact).length) body.contact = contact;
  return body;
}

async function checkStep(main, ctx, state, show) {
  const { t, i18n } = ctx;
  main.append(heading(t("report.check.title")), stepLine(ctx, "check"));
  let categoryName = draft.category;
  try {
    state.categories ??= await ctx.api.places.categories(ctx.session.jurisdiction().slug);
    const found = state.categories.find((c) => c.code === draft.category);
    if (found) categoryName = i18n.pick(found.name);
  } catch {
    // the code will do
  }
  const change = (step, what) =>
    button(t("report.check.change", { what }), () => show(step), { kind: "link" });
  const rows = [
    [t("report.check.place"), draft.address || t("report.check.on_map"), change("location", t("report.check.place"))],
    [t("report.check.category"), categoryName, change("category", t("report.check.category"))],
    [t("report.check.description"), draft.description, change("details", t("report.check.description"))],
    [t("report.check.photos"), t("report.check.photo_count", { count: draft.photos.length }), change("details", t("report.check.photos"))],
    [
      t("report.check.contact"),
      [draft.contact.email, draft.contact.phone].filter(Boolean).join(", ") || t("report.check.no_contact"),
      change("contact", t("report.check.contact")),
    ],
  ];
  const list = h("dl", { class: "summary-list" });
  for (const [term, value, action] of rows) list.append(h("dt", {}, term), h("dd", {}, value, h("br"), action));
  for (const [code, value] of Object.entries(draft.extra)) list.append(h("dt", {}, code), h("dd", {}, Array.isArray(value) ? value.join(", ") : String(value)));
  const send = button(t("report.check.send"), null, { type: "submit" });
  const form = h("form", { novalidate: true }, h("div", { class: "actions" }, backButton(ctx, show, "contact"), send));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    send.disabled = true;
    const slug = ctx.session.jurisdiction().slug;
    // The Idempotency-Key is made now, when the button is pressed (it is the item's id).
    const item = await ctx.outbox.enqueue(
      "report",
      {
        jurisdiction: slug,
        body: reportBody(),
        photos: draft.photos.map(({ blob, name, key, uploadedId }) => ({ blob, name, key, uploadedId })),
      },
      { summary: { category: draft.category, categoryName, description: draft.description.slice(0, 140) } },
    );
    const sent = draft;
    draft = null;
    await confirmation(main, ctx, item, sent, show);
  });
  main.append(list, form);
}

async function confirmation(main, ctx, item, sent, show) {
  const { t } = ctx;
  main.replaceChildren(heading(t("report.done.title")));
  const line = h("p", { class: "notice", role: "status" }, t("report.sending"));
  const next = h("div", { class: "actions" });
  main.append(line, next);
  main.querySelector("h1").focus();
  const update = (current) => {
    next.replaceChildren();
    if (current?.state === "sent") {
      line.className = "notice success";
      line.textContent = t("report.sent", { id: current.result.reportId });
      next.append(h("a", { class: "button primary", href: `/reports/${current.result.reportId}` }, t("report.done.view")));
    } else if (current?.state === "failed") {
      line.className = "notice warning";
      line.textContent = t("report.refused");
      draft = sent;
      draft.errors = current.error;
      ctx.outbox.discard(current.id);
      next.append(button(t("report.done.fix"), () => show(firstStepWithError(current.error))));
      showErrors(main, apiErrors(current.error));
      return;
    } else {
      line.className = "notice";
      line.textContent = t("report.waiting_for_network");
    }
    next.append(h("a", { class: "button secondary", href: "/my-reports" }, t("report.done.my_reports")));
    next.append(button(t("report.done.another"), () => show("location"), { kind: "secondary" }));
  };
  update(item);
  const stop = ctx.outbox.subscribe(async () => update(await ctx.outbox.get(item.id)));
  const done = await ctx.outbox.settled(item.id, 15000);
  update(done);
  if (done?.state === "sent") announce(line.textContent);
  stop();
  draft ??= newDraft();
}

function firstStepWithError(error) {
  const names = Object.keys(error?.fields || {});
  if (names.some((n) => n === "location" || n === "address")) return "location";
  if (names.some((n) => n === "category" || n.startsWith("extra."))) return "category";
  if (names.some((n) => n === "description" || n === "photos")) return "details";
  if (names.some((n) => n.startsWith("contact"))) return "contact";
  return "check";
}

const STEP_VIEWS = {
  location: locationStep,
  category: categoryStep,
  duplicates: duplicatesStep,
  details: detailsStep,
  contact: contactStep,
  check: checkStep,
};
