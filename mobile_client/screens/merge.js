// Merge a duplicate into its master: the open reports nearby are offered (the same kind first, nearest
// first); the duplicate is closed, its followers and supporters move to the master. Sent through the
// outbox with the version read; a refusal is shown on the report's own screen.
import { h, heading, failure, button, field, choices, showErrors, clearErrors, statusTag, announce, errorSentence } from "../js/ui.js";
import { baseOf, setFlash, viewOf } from "./staff_report.js";

export async function render(main, ctx) {
  const { t, i18n, api, session, outbox } = ctx;
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id < 1) return ctx.navigate("/not-found", { replace: true });
  main.append(heading(t("merge.heading", { id })));
  let view;
  let candidates;
  try {
    [view, candidates] = await Promise.all([api.staff.report(id), api.staff.mergeCandidates(id)]);
  } catch (error) {
    view = viewOf(id)?.view;
    main.append(failure(error, () => ctx.rerender()));
    if (view) main.append(h("p", {}, h("a", { href: `/work/${id}` }, t("merge.back", { id }))));
    return;
  }
  if (!ctx.isCurrent()) return;
  main.append(h("p", {}, t("merge.intro")));
  if (!candidates.length) {
    main.append(h("p", { class: "notice" }, t("merge.none")), h("p", {}, h("a", { href: `/work/${id}` }, t("merge.back", { id }))));
    return;
  }
  const form = h("form", { novalidate: true, "aria-labelledby": "merge-legend" });
  const options = candidates.map((c) => ({
    value: String(c.id),
    label: h(
      "span",
      { class: "candidate" },
      h("strong", {}, t("work.item_title", { id: c.id, category: i18n.pick(c.category_name) })),
      " ",
      statusTag(c.status),
      h("span", { class: "meta" }, " ", t("work.distance", { distance: i18n.distance(c.distance_m) }), c.address ? `, ${c.address}` : ""),
      h("span", { class: "meta snippet" }, c.description),
    ),
  }));
  const set = choices({ legend: t("merge.choose"), name: "into_report_id", options, hint: t("merge.choose_hint") });
  set.querySelector("legend").id = "merge-legend";
  form.append(set);
  const message = h("textarea", { name: "public_message", maxlength: 2000, rows: 3 });
  form.append(field({ label: t("staff.message"), hint: t("merge.message_hint"), control: message, name: "public_message", optional: true }));
  const submit = button(t("merge.submit"), null, { type: "submit" });
  form.append(h("div", { class: "actions" }, submit, h("a", { class: "button secondary", href: `/work/${id}` }, t("staff.cancel"))));
  const status = h("div", { "aria-live": "polite" });
  main.append(form, status);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const chosen = form.querySelector('input[name="into_report_id"]:checked');
    if (!chosen) {
      showErrors(form, [{ field: "into_report_id", message: t("merge.missing") }]);
      return;
    }
    const body = { into_report_id: Number(chosen.value) };
    if (message.value.trim()) body.public_message = message.value.trim();
    submit.disabled = true;
    const item = await outbox.enqueue(
      "merge",
      { jurisdiction: session.jurisdiction().slug, reportId: id, version: view.version, body, base: baseOf(view) },
      { summary: { reportId: id, status: "closed", masterId: body.into_report_id } },
    );
    const done = navigator.onLine ? await outbox.settled(item.id, 8000) : await outbox.get(item.id);
    if (!ctx.isCurrent()) return;
    if (done?.state === "sent") {
      setFlash(t("merge.done", { id: body.into_report_id }));
      announce(t("merge.done", { id: body.into_report_id }));
      ctx.navigate(`/work/${id}`);
    } else if (done?.state === "failed" && done.error?.status !== 412) {
      // Refused for another reason than a newer version (e.g. the master was closed meanwhile).
      await outbox.discard(item.id);
      submit.disabled = false;
      showErrors(form, [{ field: "into_report_id", message: errorSentence(done.error) }]);
    } else {
      // Waiting for the network, or a conflict: the report's screen shows it and what to do.
      ctx.navigate(`/work/${id}`);
    }
  });
}
