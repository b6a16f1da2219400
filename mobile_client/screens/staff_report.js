// One report for field staff: photos, history (internal notes too), the reporter's contact, supporters,
// the due date; the moves the workflow allows from its status, each with its fields (a public message
// from the municipality's templates, editable; an internal note; the reason for closing; an after-photo
// made small on the phone). Every change goes through the outbox with the version it was made on: a
// change refused because someone else changed the report (412) shows what changed and can be redone on
// the new version; nothing is overwritten silently and nothing is lost offline.
import { h, heading, statusTag, failure, button, announce, field, choices, showErrors, clearErrors, errorSentence, uid } from "../js/ui.js";
import { isOverdue } from "./worklist.js";

// What this page read last, per report, so a change can be made offline after the report was opened.
// Memory only: it holds the reporter's contact data, which is not kept on the phone.
const views = new Map();
const templates = new Map();
const CLOSE_REASONS = ["not_ours", "cannot_fix", "no_action_needed", "spam", "other"];
const PHOTO_STATUSES = new Set(["resolved", "in_progress", "on_hold"]);
// The moves in the order of the work: forward first, closing without a fix last.
const ORDER = ["accepted", "scheduled", "in_progress", "on_hold", "resolved", "reopened", "closed"];
let flash = null;
const sending = new Set(); // outbox ids of changes whose outcome the screen is waiting for

/** What a change was made on: enough to say later what someone else changed in between. */
export function baseOf(view) {
  return { version: view.version, status: view.status, dueAt: view.due_at, historyCount: view.history.length, mergedIntoId: view.merged_into_id };
}

/** The differences between the version a change was made on and the report now, as plain data. */
export function changesSince(base, now) {
  const found = [];
  if (base.status !== now.status) found.push({ kind: "status", from: base.status, to: now.status });
  if ((base.dueAt || null) !== (now.due_at || null)) found.push({ kind: "due", from: base.dueAt, to: now.due_at });
  if (!base.mergedIntoId && now.merged_into_id) found.push({ kind: "merged", into: now.merged_into_id });
  for (const change of now.history.slice(base.historyCount)) found.push({ kind: "history", change });
  return found;
}

export async function render(main, ctx) {
  const { t, i18n, api, session, outbox } = ctx;
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id < 1) return ctx.navigate("/not-found", { replace: true });
  const slug = session.jurisdiction().slug;
  let view;
  let stale = false;
  try {
    view = await api.staff.report(id);
    views.set(id, { view, at: Date.now() });
  } catch (error) {
    const kept = views.get(id);
    if (!error.offline || !kept) {
      main.append(heading(t("staff.title")));
      main.append(error.status === 404 ? h("p", {}, t("detail.not_found")) : failure(error, () => ctx.rerender()));
      return;
    }
    view = kept.view;
    stale = kept.at;
  }
  if (!ctx.isCurrent()) return;
  const categoryName = i18n.pick(view.category_name);
  main.append(heading(t("staff.heading", { id, category: categoryName })));
  if (flash) {
    main.append(h("p", { class: "notice success", role: "status" }, flash));
    flash = null;
  }
  if (stale) main.append(h("p", { class: "notice warning" }, t("staff.offline_copy", { time: i18n.dateTime(stale) })));
  // Photos are fetched with the token (a non-public report's are not public) and shown from memory.
  const objectUrls = [];
  const showPhoto = (img, path) =>
    api.objectUrl(path).then(
      (src) => {
        objectUrls.push(src);
        img.src = src;
      },
      () => {},
    );
  // On a slow connection staff may open a move's form before the templates arrived: the form opens at
  // once and takes them when they come (see transitionForm).
  const templatesLoaded = loadTemplates();

  const pending = h("div", { class: "pending" });
  main.append(pending);

  const facts = h("dl", { class: "summary-list" });
  const fact = (term, ...value) => facts.append(h("dt", {}, term), h("dd", {}, ...value));
  fact(t("detail.status"), statusTag(view.status));
  fact(t("detail.reported_on"), i18n.dateTime(view.created_at));
  if (view.due_at && !["resolved", "closed"].includes(view.status)) {
    fact(t("detail.due"), i18n.date(view.due_at), " ", isOverdue(view) ? h("span", { class: "tag overdue" }, t("work.overdue")) : null);
  }
  fact(t("detail.place"), [view.address, view.area?.name].filter(Boolean).join(", ") || t("staff.no_address"));
  fact(t("detail.supporters"), t("detail.supporters_count", { count: view.supporters }));
  if (view.merged_into_id) fact(t("staff.merged_into"), h("a", { href: `/work/${view.merged_into_id}` }, `#${view.merged_into_id}`));
  main.append(facts, h("h2", {}, t("detail.description")), h("p", { class: "description" }, view.description));
  const extras = Object.entries(view.extra || {});
  if (extras.length) {
    main.append(h("dl", { class: "summary-list" }, extras.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))])));
  }

  if (view.photos.length) {
    const list = h("ul", { class: "photos" });
    view.photos.forEach((photo, i) => {
      const img = h("img", { alt: t("detail.photo_alt", { number: i + 1 }), width: 112, height: 112 });
      list.append(h("li", {}, img));
      showPhoto(img, photo.thumbnail_url);
    });
    main.append(h("h2", {}, t("detail.photos")), list);
  }

  main.append(h("h2", {}, t("staff.contact")));
  const { email, phone } = view.contact || {};
  if (email || phone) {
    main.append(
      h(
        "ul",
        { class: "contact" },
        email ? h("li", {}, t("staff.email"), " ", h("a", { href: `mailto:${email}` }, email)) : null,
        phone ? h("li", {}, t("staff.phone"), " ", h("a", { href: `tel:${phone.replace(/[^+0-9]/g, "")}` }, phone)) : null,
      ),
      h("p", { class: "meta" }, t("staff.contact_private")),
    );
  } else {
    main.append(h("p", {}, t("staff.no_contact")));
  }

  const actions = h("section", { "aria-labelledby": "actions-title" }, h("h2", { id: "actions-title" }, t("staff.actions")));
  const formBox = h("div", {});
  main.append(actions, formBox);
  paintActions();

  main.append(h("h2", {}, t("detail.timeline")));
  const timeline = h("ol", { class: "timeline" });
  for (const change of [...view.history].reverse()) timeline.append(historyEntry(change));
  main.append(timeline);

  let left = false;
  let shown = new Set(); // outbox ids of changes shown as waiting: when one is sent, show the new report
  const unsubscribe = outbox.subscribe(() => paintPending());
  await paintPending();
  return () => {
    left = true;
    unsubscribe();
    for (const url of objectUrls) URL.revokeObjectURL(url);
  };

  function historyEntry(change) {
    const photo = change.photo ? h("img", { alt: t("detail.after_photo"), width: 160 }) : null;
    if (photo) showPhoto(photo, change.photo.thumbnail_url);
    return h(
      "li",
      {},
      h("p", {}, statusTag(change.to_status), " ", h("span", { class: "meta" }, i18n.dateTime(change.created_at))),
      change.reason ? h("p", { class: "meta" }, i18n.has(`reason.${change.reason}`) ? t(`reason.${change.reason}`) : change.reason) : null,
      change.public_message ? h("blockquote", { class: "message" }, h("p", {}, change.public_message)) : null,
      change.internal_note ? h("p", { class: "internal" }, h("strong", {}, t("staff.internal_note_label")), " ", change.internal_note) : null,
      photo,
    );
  }

  async function loadTemplates() {
    if (templates.has(view.category)) return;
    try {
      templates.set(view.category, await api.staff.templates(undefined, view.category));
    } catch {
      // Without templates staff write the message themselves.
    }
  }

  async function mine() {
    const all = [...(await outbox.items({ kind: "transition" })), ...(await outbox.items({ kind: "merge" }))];
    return all.filter((item) => item.summary.reportId === id && item.state !== "sent");
  }

  async function paintPending() {
    const items = await mine();
    if (left) return;
    // A change that waited here was sent meanwhile (back online): show the report as it is now.
    const sent = [];
    for (const itemId of shown) {
      const item = await outbox.get(itemId);
      if (item?.state === "sent") sent.push(item);
    }
    if (sent.length && ctx.isCurrent()) {
      flash = t("staff.saved", { status: t(`status.${sent.at(-1).result.status}`) });
      announce(flash);
      ctx.rerender();
      return;
    }
    shown = new Set(items.filter((item) => item.state !== "failed" && !sending.has(item.id)).map((item) => item.id));
    pending.replaceChildren(...items.map((item) => pendingPanel(item)));
    paintActions(items.length > 0);
  }

  function actionName(item) {
    return item.kind === "merge" ? t("staff.merge") : t(`staff.to.${item.summary.status}`);
  }

  function pendingPanel(item) {
    if (item.state === "waiting" || item.state === "sending") {
      return h("p", { class: "notice warning", "data-item": item.id }, t("staff.waiting", { action: actionName(item) }), " ", statusTag("waiting"));
    }
    if (item.error?.code === "stale-version" || item.error?.status === 412) return conflictPanel(item);
    const panel = h(
      "section",
      { class: "notice warning", "aria-labelledby": `refused-${item.id}` },
      h("h2", { id: `refused-${item.id}` }, t("staff.refused_title", { action: actionName(item) })),
      h("p", {}, errorSentence(item.error)),
    );
    panel.append(
      h(
        "div",
        { class: "actions" },
        button(t("common.try_again"), () => outbox.retry(item.id), { kind: "secondary" }),
        button(t("staff.discard"), () => discard(item), { kind: "warning" }),
      ),
    );
    return panel;
  }

  function conflictPanel(item) {
    const titleId = `conflict-${item.id}`;
    const panel = h(
      "section",
      { class: "notice warning conflict", "aria-labelledby": titleId, tabindex: "-1", dataset: { item: item.id } },
      h("h2", { id: titleId }, t("staff.conflict_title")),
      h("p", {}, t("staff.conflict_intro", { action: actionName(item) })),
    );
    const mineList = h("dl", { class: "summary-list" });
    mineList.append(h("dt", {}, t("staff.your_change")), h("dd", {}, actionName(item)));
    const body = item.payload.body;
    if (body.public_message) mineList.append(h("dt", {}, t("staff.message")), h("dd", {}, body.public_message));
    if (body.internal_note) mineList.append(h("dt", {}, t("staff.internal_note")), h("dd", {}, body.internal_note));
    if (body.reason) mineList.append(h("dt", {}, t("staff.reason")), h("dd", {}, t(`reason.${body.reason}`)));
    if (item.payload.photo) mineList.append(h("dt", {}, t("staff.after_photo")), h("dd", {}, t("staff.photo_kept")));
    const what = h("div", { class: "what-changed" }, h("p", { class: "loading" }, t("common.loading")));
    panel.append(h("h3", {}, t("staff.what_changed")), what, h("h3", {}, t("staff.your_change_title")), mineList);
    const buttons = h("div", { class: "actions" });
    panel.append(buttons);
    api.staff.report(id).then(
      (now) => {
        views.set(id, { view: now, at: Date.now() });
        const changes = changesSince(item.payload.base, now);
        what.replaceChildren(
          changes.length ? h("ul", { class: "changes" }, changes.map((c) => h("li", {}, describe(c)))) : h("p", {}, t("staff.changed_unknown")),
        );
        const possible = item.kind === "merge" ? !now.merged_into_id && now.allowed_transitions.includes("closed") : now.allowed_transitions.includes(item.summary.status);
        if (possible) {
          buttons.append(button(t("staff.redo", { action: actionName(item) }), () => redo(item, now), { kind: "primary" }));
        } else {
          buttons.append(h("p", {}, t("staff.redo_impossible", { status: t(`status.${now.status}`) })));
        }
        buttons.append(button(t("staff.discard"), () => discard(item), { kind: "warning" }));
      },
      (error) => {
        what.replaceChildren(h("p", {}, error.offline ? t("staff.conflict_offline") : errorSentence(error)));
        buttons.append(button(t("staff.discard"), () => discard(item), { kind: "warning" }));
      },
    );
    return panel;
  }

  function describe(change) {
    if (change.kind === "status") return t("staff.changed_status", { from: t(`status.${change.from}`), to: t(`status.${change.to}`) });
    if (change.kind === "due") return t("staff.changed_due", { date: change.to ? i18n.date(change.to) : "-" });
    if (change.kind === "merged") return t("staff.changed_merged", { id: change.into });
    const entry = change.change;
    return h(
      "span",
      {},
      t("staff.changed_entry", { status: t(`status.${entry.to_status}`), time: i18n.dateTime(entry.created_at) }),
      entry.public_message ? h("span", { class: "quote" }, ` "${entry.public_message}"`) : null,
      entry.internal_note ? h("span", { class: "meta" }, ` (${t("staff.internal_note_label")} ${entry.internal_note})`) : null,
    );
  }

  async function discard(item) {
    await outbox.discard(item.id);
    announce(t("staff.discarded"));
    ctx.rerender();
  }

  async function redo(item, now) {
    await outbox.discard(item.id);
    const payload = { ...item.payload, version: now.version, base: baseOf(now) };
    await send(item.kind, payload, item.summary);
  }

  async function send(kind, payload, summary) {
    const key = api.newKey();
    sending.add(key); // this function shows the outcome; paintPending leaves it alone meanwhile
    const item = await outbox.enqueue(kind, payload, { summary, key });
    announce(t("staff.sending"));
    // Offline it waits in the outbox: say so at once instead of after a timeout.
    const done = navigator.onLine ? await outbox.settled(item.id, 8000) : await outbox.get(item.id);
    sending.delete(key);
    if (!ctx.isCurrent()) return;
    if (done?.state === "sent") {
      flash = kind === "merge" ? t("merge.done", { id: payload.body.into_report_id }) : t("staff.saved", { status: t(`status.${done.result.status}`) });
      announce(flash);
      ctx.rerender();
      return;
    }
    formBox.replaceChildren();
    await paintPending();
    if (done?.state === "failed") {
      const panel = pending.querySelector(`[data-item="${CSS.escape(item.id)}"]`) || pending.firstElementChild;
      panel?.setAttribute("tabindex", "-1");
      panel?.focus();
      announce(t("staff.conflict_title"));
    } else {
      announce(t("staff.waiting", { action: kind === "merge" ? t("staff.merge") : t(`staff.to.${summary.status}`) }));
      pending.firstElementChild?.setAttribute("tabindex", "-1");
      pending.firstElementChild?.focus();
    }
  }

  function paintActions(busy = false) {
    actions.replaceChildren(h("h2", { id: "actions-title" }, t("staff.actions")));
    if (busy) {
      actions.append(h("p", {}, t("staff.wait_for_earlier")));
      return;
    }
    if (!view.allowed_transitions.length) {
      actions.append(h("p", {}, t("staff.no_actions")));
      return;
    }
    const list = h("div", { class: "actions actions-stack" });
    const moves = [...view.allowed_transitions].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
    for (const status of moves) {
      list.append(button(t(`staff.to.${status}`), () => openForm(status), { kind: status === "closed" ? "secondary" : "primary" }));
    }
    if (view.allowed_transitions.includes("closed") && !view.merged_into_id) {
      list.append(h("a", { class: "button secondary", href: `/work/${id}/merge` }, t("staff.merge")));
    }
    actions.append(list);
  }

  function openForm(status) {
    formBox.replaceChildren(transitionForm(status));
    formBox.querySelector("h2").focus();
  }

  function transitionForm(status) {
    const titleId = uid("form-title");
    const form = h("form", { novalidate: true, class: "transition-form", "aria-labelledby": titleId }, h("h2", { id: titleId, tabindex: "-1" }, t(`staff.to.${status}`)));
    const message = h("textarea", { name: "public_message", maxlength: 2000, rows: 4 });
    const messageField = field({ label: t("staff.message"), hint: t("staff.message_hint"), control: message, name: "public_message", optional: true });
    form.append(messageField);
    // The templates' picker goes above the message. Templates that arrive after the form opened are still
    // offered (and announced), and fill the message only while staff have not typed in it.
    const offerTemplates = () => {
      const forStatus = (templates.get(view.category) || []).filter((tpl) => tpl.status === status);
      if (!forStatus.length || form.querySelector('select[name="template"]')) return null;
      const picker = h(
        "select",
        { name: "template" },
        h("option", { value: "" }, t("staff.template_none")),
        forStatus.map((tpl, i) => h("option", { value: String(i) }, i18n.pick(tpl.title))),
      );
      const filled = message.value === "";
      if (filled) {
        picker.value = "0";
        message.value = i18n.pick(forStatus[0].text);
      } else {
        picker.value = "";
      }
      picker.addEventListener("change", () => {
        message.value = picker.value === "" ? "" : i18n.pick(forStatus[Number(picker.value)].text);
      });
      form.insertBefore(field({ label: t("staff.template"), hint: t("staff.template_hint"), control: picker, name: "template" }), messageField);
      return filled ? "staff.templates_arrived_filled" : "staff.templates_arrived";
    };
    if (templates.has(view.category)) {
      offerTemplates();
    } else {
      templatesLoaded.then(() => {
        if (!form.isConnected) return;
        const said = offerTemplates();
        if (said) announce(t(said));
      });
    }
    let reason = null;
    if (status === "closed") {
      reason = choices({ legend: t("staff.reason"), name: "reason", options: CLOSE_REASONS.map((r) => ({ value: r, label: t(`reason.${r}`) })), hint: t("staff.reason_hint") });
      form.append(reason);
    }
    const note = h("textarea", { name: "internal_note", maxlength: 5000, rows: 3 });
    form.append(field({ label: t("staff.internal_note"), hint: t("staff.internal_note_hint"), control: note, name: "internal_note", optional: true }));
    let prepared = null;
    if (PHOTO_STATUSES.has(status)) {
      const input = h("input", { type: "file", accept: "image/*", capture: "environment", name: "photo" });
      const preview = h("div", { class: "photo-preview", "aria-live": "polite" });
      input.addEventListener("change", async () => {
        const file = input.files?.[0];
        preview.replaceChildren();
        prepared = null;
        if (!file) return;
        preview.append(h("p", { class: "loading" }, t("staff.photo_preparing")));
        try {
          const { prepare } = await import("../js/photos.js");
          prepared = await prepare(file);
          const url = URL.createObjectURL(prepared.blob);
          preview.replaceChildren(
            h("img", { src: url, alt: t("staff.photo_preview"), width: 160 }),
            h("p", { class: "meta" }, t("staff.photo_ready")),
          );
        } catch (error) {
          input.value = "";
          preview.replaceChildren();
          showErrors(form, [{ field: "photo", message: t(`errors.${error.code === "photo-too-large" ? "photo-too-large" : "photo-unreadable"}`) }]);
        }
      });
      form.append(field({ label: t("staff.after_photo"), hint: t("staff.after_photo_hint"), control: input, name: "photo", optional: true }), preview);
    }
    const submit = button(t("staff.save_action", { action: t(`staff.to.${status}`) }), null, { type: "submit" });
    form.append(h("div", { class: "actions" }, submit, button(t("staff.cancel"), () => {
      formBox.replaceChildren();
      actions.querySelector("button")?.focus();
    }, { kind: "secondary" })));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const chosenReason = reason?.querySelector("input:checked")?.value;
      if (status === "closed" && !chosenReason) {
        showErrors(form, [{ field: "reason", message: t("staff.reason_missing") }]);
        return;
      }
      const body = { status };
      if (message.value.trim()) body.public_message = message.value.trim();
      if (note.value.trim()) body.internal_note = note.value.trim();
      if (chosenReason) body.reason = chosenReason;
      const photo = prepared ? { blob: prepared.blob, name: prepared.name, key: api.newKey(), uploadedId: null } : null;
      submit.disabled = true;
      await send("transition", { jurisdiction: slug, reportId: id, version: view.version, body, photo, base: baseOf(view) }, { reportId: id, status });
    });
    return form;
  }
}

/** For other screens (merge): remember a change's outcome to show on this report's screen. */
export function setFlash(text) {
  flash = text;
}

/** The report as this page last read it (for the merge screen when offline), or null. */
export function viewOf(id) {
  return views.get(id) || null;
}
