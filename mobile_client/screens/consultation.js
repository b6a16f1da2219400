// Answer a consultation round: every question on one page, in its own kind of control (one choice,
// several choices, a scale, free text, an order without dragging, a pin on the map or, without the
// map, a place from the list or the place in words). Answers are editable until the round closes; they
// go through the outbox (sent now, or when the network is back). Who may answer is said first.
import { h, heading, field, choices, button, showErrors, clearErrors, errorSentence, announce, failure } from "../js/ui.js";
import { inlineError, rankingList, put } from "../js/participation.js";

export async function render(main, ctx) {
  const { t, i18n, api, session } = ctx;
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id < 1) return ctx.navigate("/not-found", { replace: true });
  const slug = ctx.query.get("j") || session.jurisdiction().slug;
  let round;
  let eligibility;
  let mine;
  try {
    [round, eligibility, mine] = await Promise.all([
      api.consultations.round(slug, id),
      api.consultations.eligibility(slug, id),
      api.consultations.mine(slug, id),
    ]);
  } catch (error) {
    put(main, heading(t("consultation.title")), error.status === 404 ? h("p", {}, t("consultation.not_found")) : failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  put(main, heading(`${round.consultation_title}: ${round.title}`));
  put(main, h("p", { class: "meta" }, t("consultation.for_area", { area: round.area_name })));
  if (round.consultation_description) put(main, h("p", {}, round.consultation_description));
  if (round.status === "closed") {
    put(main, 
      h("p", { class: "notice" }, t("consultation.closed")),
      h("p", {}, h("a", { class: "button primary", href: `/consultation-rounds/${id}/results` }, t("consultation.see_results"))),
    );
    return;
  }
  if (!eligibility.eligible) {
    const reason = eligibility.reason;
    put(main, h("div", { class: "notice warning" }, h("p", {}, errorSentence({ code: reason })), reason === "address-not-verified" ? h("p", {}, t("propose.how_to_take_part")) : null));
    if (reason === "registration-required" || reason === "address-not-verified") {
      // Signing in brings the resident back to these questions.
      put(main, h("p", {}, h("a", { href: `/account?next=${encodeURIComponent(`/consultation-rounds/${id}`)}` }, t("settings.make_account"))));
    }
    return;
  }
  put(main, 
    h("p", { class: "meta" }, round.closes_at ? t("consultation.until", { date: i18n.dateTime(round.closes_at) }) : t("consultation.editable")),
    h("p", { class: "meta" }, t("consultation.not_secret")),
  );
  const saved = h("div", { "aria-live": "polite" });
  if (mine) put(saved, h("p", { class: "notice success" }, t("consultation.saved_at", { time: i18n.dateTime(mine.updated_at) })));
  put(main, saved);

  const given = new Map((mine?.answers || []).map((a) => [a.question_id, a]));
  const readers = new Map(); // question id -> () => answer fields or null
  const stops = [];
  const form = h("form", { novalidate: true });
  for (const question of round.questions) put(form, questionBlock(question));
  const send = button(t(mine ? "consultation.save_changes" : "consultation.send"), null, { type: "submit" });
  put(form, h("div", { class: "actions" }, send));
  put(main, form);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(main);
    const answers = [];
    const problems = [];
    for (const question of round.questions) {
      const answer = readers.get(question.id)();
      if (answer) answers.push({ question_id: question.id, ...answer });
      else if (question.required) problems.push({ field: `question.${question.id}`, message: t("consultation.required") });
    }
    if (problems.length) return showErrors(main, problems);
    send.disabled = true;
    saved.replaceChildren(h("p", { class: "notice" }, t("consultation.sending")));
    const item = await ctx.outbox.enqueue("response", { jurisdiction: slug, roundId: id, answers }, { summary: { roundId: id, title: round.title } });
    const done = await ctx.outbox.settled(item.id, 8000);
    if (!ctx.isCurrent()) return;
    send.disabled = false;
    if (done?.state === "sent") {
      await ctx.outbox.discard(done.id);
      send.textContent = t("consultation.save_changes");
      const line = t("consultation.saved_at", { time: i18n.dateTime(done.result.updatedAt) });
      saved.replaceChildren(h("p", { class: "notice success" }, line, " ", t("consultation.can_change")));
      saved.querySelector("p").setAttribute("tabindex", "-1");
      saved.querySelector("p").focus();
    } else if (done?.state === "failed") {
      await ctx.outbox.discard(done.id);
      const fields = Object.entries(done.error.fields || {}).filter(([name]) => name.startsWith("question."));
      showErrors(main, fields.length ? fields.map(([name, info]) => ({ field: name, message: t(`consultation.violation.${info.type}`) })) : [{ field: null, message: errorSentence(done.error) }]);
    } else {
      saved.replaceChildren(h("p", { class: "notice" }, t("consultation.waiting")));
    }
  });

  return () => {
    for (const stop of stops) stop();
  };

  function questionBlock(question) {
    const name = `question.${question.id}`;
    const before = given.get(question.id);
    const legend = `${question.position}. ${question.prompt}${question.required ? "" : ` ${t("form.optional")}`}`;
    if (question.kind === "single_choice" || question.kind === "scale") {
      const options =
        question.kind === "scale"
          ? Array.from({ length: question.scale_max - question.scale_min + 1 }, (_, i) => String(question.scale_min + i)).map((v) => ({ value: v, label: v }))
          : question.options.map((o) => ({ value: o, label: o }));
      const value = question.kind === "scale" ? (before?.number != null ? String(before.number) : null) : before?.choices?.[0];
      const set = choices({
        legend,
        name,
        options,
        value,
        hint: question.kind === "scale" ? t("consultation.scale_hint", { min: question.scale_min, max: question.scale_max }) : null,
      });
      set.classList.add(question.kind === "scale" ? "scale" : "single");
      readers.set(question.id, () => {
        const checked = set.querySelector("input:checked");
        if (!checked) return null;
        return question.kind === "scale" ? { number: Number(checked.value) } : { choices: [checked.value] };
      });
      return set;
    }
    if (question.kind === "multiple_choice") {
      const set = choices({
        legend,
        name,
        type: "checkbox",
        options: question.options.map((o) => ({ value: o, label: o })),
        value: before?.choices || [],
        hint: question.max_choices ? t("consultation.max_choices", { count: question.max_choices }) : t("consultation.any_choices"),
        onchange: (event) => {
          const checked = set.querySelectorAll("input:checked").length;
          if (event.target.checked && question.max_choices && checked > question.max_choices) {
            event.target.checked = false;
            inlineError(set, t("consultation.max_choices_reached", { count: question.max_choices }));
          } else {
            inlineError(set, "");
          }
        },
      });
      readers.set(question.id, () => {
        const picked = [...set.querySelectorAll("input:checked")].map((i) => i.value);
        return picked.length ? { choices: picked } : null;
      });
      return set;
    }
    if (question.kind === "free_text") {
      const area = h("textarea", { name, rows: 4, maxLength: question.max_length || 10000 });
      area.value = before?.text || "";
      readers.set(question.id, () => (area.value.trim() ? { text: area.value.trim() } : null));
      return field({ label: legend, control: area, name });
    }
    if (question.kind === "ranking") {
      const list = rankingList({
        t,
        items: question.options.map((o) => ({ id: o, label: o })),
        order: before?.choices || [],
        name,
        legend,
        hint: t("consultation.ranking_hint"),
      });
      readers.set(question.id, () => {
        const order = list.order();
        return order.length ? { choices: order } : null;
      });
      return list.element;
    }
    return mapQuestion(question, name, legend, before);
  }

  // "Where?": a pin on the map, or without the map a place from the list or the place in words.
  function mapQuestion(question, name, legend, before) {
    const places = question.places || [];
    const same = (a, b) => a && b && Math.abs(a[0] - b[0]) < 1e-7 && Math.abs(a[1] - b[1]) < 1e-7;
    const placeOf = (point) => places.find((p) => same(p.point.coordinates, point));
    const state = {
      mode: before?.text ? "describe" : before?.point && placeOf(before.point.coordinates) ? "place" : "map",
      point: before?.point && !placeOf(before.point.coordinates) ? before.point.coordinates : null,
      place: before?.point ? placeOf(before.point.coordinates)?.name ?? null : null,
    };
    const set = h("fieldset", { class: "field choices map-question", dataset: { field: name } }, h("legend", {}, legend), h("p", { class: "field-error", hidden: true }));
    const modes = [
      { value: "map", label: t("consultation.where_map") },
      ...(places.length ? [{ value: "place", label: t("consultation.where_list") }] : []),
      { value: "describe", label: t("consultation.where_words") },
    ];
    const modeSet = choices({
      legend: t("consultation.how_answer"),
      name: `${name}.mode`,
      options: modes,
      value: state.mode,
      onchange: (event) => {
        state.mode = event.target.value;
        draw();
      },
    });
    const mapPart = h("div", { class: "map-part" });
    const mapBox = h("div", { class: "map", id: `map-${question.id}` });
    const where = h("p", { class: "meta", "aria-live": "polite" }, state.point ? t("consultation.pin_set") : t("consultation.pin_not_set"));
    put(mapPart, h("p", { class: "hint" }, t("consultation.pin_hint")), mapBox, where);
    const listPart = choices({
      legend: t("consultation.pick_place"),
      name: `${name}.place`,
      options: places.map((p) => ({ value: p.name, label: p.name })),
      value: state.place,
      onchange: (event) => {
        state.place = event.target.value;
      },
    });
    const words = h("textarea", { name: `${name}.text`, rows: 3, maxLength: 2000 });
    words.value = before?.text || "";
    const wordsPart = field({ label: t("consultation.describe_place"), hint: t("consultation.describe_hint"), control: words, name: `${name}.text` });
    put(set, modeSet, mapPart, places.length ? listPart : null, wordsPart);
    const draw = () => {
      mapPart.hidden = state.mode !== "map";
      listPart.hidden = state.mode !== "place";
      wordsPart.hidden = state.mode !== "describe";
      if (state.mode === "map") drawMap();
    };
    readers.set(question.id, () => {
      if (state.mode === "map") return state.point ? { point: { type: "Point", coordinates: state.point.map((v) => Math.round(v * 1e7) / 1e7) } } : null;
      if (state.mode === "place") {
        const place = places.find((p) => p.name === state.place);
        return place ? { point: place.point } : null;
      }
      return words.value.trim() ? { text: words.value.trim() } : null;
    });
    let handle = null;
    let drawing = false;
    async function drawMap() {
      if (handle || drawing) return;
      drawing = true;
      try {
        const { createMap, addPin } = await import("../js/map.js");
        const [west, south, east, north] = round.area_bbox;
        handle = await createMap(mapBox, {
          slug,
          center: state.point || undefined,
          bounds: state.point ? undefined : [[west, south], [east, north]],
          zoom: 17,
          reports: false,
          label: t("consultation.map_label", { question: question.prompt }),
        });
        stops.push(() => handle.map.remove());
        addPin(handle, state.point || round.area_centre.coordinates, {
          label: t("consultation.pin_label", { question: question.prompt }),
          onMove: (position) => {
            state.point = position;
            mapBox.dataset.location = `${position[0].toFixed(6)},${position[1].toFixed(6)}`;
            where.textContent = t("consultation.pin_set");
            announce(where.textContent);
          },
        });
        put(mapBox, h("p", { class: "visually-hidden" }, t("report.location.pin_keys")));
        mapBox.dataset.ready = "true";
      } catch (error) {
        console.warn("no map", error);
        mapBox.replaceWith(h("p", { class: "notice warning" }, t("consultation.no_map")));
      }
    }
    draw();
    return set;
  }
}
