// What came out of a consultation round, once it has closed: "you said, we did" from the municipality
// first, then per question the counts, the mean, the order, and for map questions the density of the
// answers as a heat layer with the same numbers in a table. Opened from the message that announces it.
import { h, heading, failure } from "../js/ui.js";
import { jurisdictionOf, heatMap, cellCentre, metresBetween, HEAT_COLOURS, put } from "../js/participation.js";

export async function render(main, ctx) {
  const { t, i18n, api } = ctx;
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id < 1) return ctx.navigate("/not-found", { replace: true });
  const slug = await jurisdictionOf(ctx);
  let round;
  try {
    round = await api.consultations.round(slug, id);
  } catch (error) {
    put(main, heading(t("consultation_results.title")), error.status === 404 ? h("p", {}, t("consultation.not_found")) : failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  put(main, heading(t("consultation_results.heading", { title: `${round.consultation_title}: ${round.title}` })));
  if (round.status !== "closed") {
    put(main, h("p", { class: "notice" }, t("consultation_results.not_yet")), h("p", {}, h("a", { href: `/consultation-rounds/${id}` }, t("consultation_results.to_questions"))));
    return;
  }
  const done = round.you_said_we_did;
  put(main, 
    h(
      "section",
      { class: "you-said", "aria-labelledby": "you-said-title" },
      h("h2", { id: "you-said-title" }, t("consultation_results.you_said_we_did")),
      done
        ? [
            h("p", { class: "meta" }, t("consultation_results.published", { date: i18n.date(done.published_at) })),
            h("p", {}, done.summary),
            done.actions.length ? h("ul", {}, done.actions.map((action) => h("li", {}, action))) : null,
          ]
        : h("p", {}, t("consultation_results.we_did_not_yet")),
    ),
  );
  let results;
  try {
    results = await api.consultations.results(slug, id);
  } catch (error) {
    put(main, failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  put(main, h("h2", {}, t("consultation_results.answers_title")), h("p", {}, t("consultation_results.respondents", { count: results.respondents })));
  const maps = [];
  const handles = [];
  for (const question of results.questions) put(main, block(question));
  let left = false;
  for (const draw of maps) draw();
  return () => {
    left = true;
    for (const handle of handles) handle.map.remove();
  };

  function table(caption, headers, rows) {
    return h(
      "table",
      { class: "results-table" },
      h("caption", { class: "visually-hidden" }, caption), // the question's heading says it on screen
      h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell, i) => (i === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell)))))),
    );
  }

  function bar(count, total) {
    const share = total ? Math.round((100 * count) / total) : 0;
    const fill = h("span", { class: "share-bar", "aria-hidden": "true" });
    fill.style.width = `${share * 0.6}%`; // CSSOM, which the CSP allows (no inline style attribute)
    return h("span", { class: "share" }, fill, ` ${t("results.percent", { percent: share })}`);
  }

  function block(question) {
    const section = h("section", { class: "question-result", "aria-labelledby": `result-q${question.id}` });
    put(section, h("h3", { id: `result-q${question.id}` }, `${question.position}. ${question.prompt}`), h("p", { class: "meta" }, t("consultation_results.answered", { count: question.answers })));
    const caption = t("consultation_results.table_caption", { question: question.prompt });
    if (question.counts) {
      put(section, table(caption, [t("consultation_results.option"), t("consultation_results.count"), t("consultation_results.share")], Object.entries(question.counts).map(([option, count]) => [option, i18n.number(count), bar(count, question.answers)])));
    } else if (question.kind === "scale") {
      put(section, 
        h("p", {}, question.mean == null ? t("consultation_results.no_mean") : t("consultation_results.mean", { mean: i18n.number(question.mean, { maximumFractionDigits: 1 }), min: question.scale_min, max: question.scale_max })),
        table(caption, [t("consultation_results.value"), t("consultation_results.count"), t("consultation_results.share")], Object.entries(question.histogram).map(([value, count]) => [value, i18n.number(count), bar(count, question.answers)])),
      );
    } else if (question.kind === "ranking") {
      put(section, 
        h("p", {}, t("consultation_results.ranking_explained")),
        table(caption, [t("consultation_results.place"), t("consultation_results.option"), t("consultation_results.points"), t("consultation_results.first_choices")], question.ranking.map((option, index) => [String(index + 1), option, i18n.number(question.borda[option]), i18n.number(question.first_choices[option])])),
      );
    } else if (question.kind === "free_text") {
      put(section, h("p", {}, t("consultation_results.texts_private")));
    } else if (question.kind === "map_point") {
      put(section, ...mapBlock(question, caption));
    }
    return section;
  }

  function mapBlock(question, caption) {
    const cells = question.density?.features || [];
    const places = round.questions.find((q) => q.id === question.id)?.places || [];
    const describe = (feature) => {
      const centre = cellCentre(feature);
      const nearest = places
        .map((p) => ({ name: p.name, metres: metresBetween(centre, p.point.coordinates) }))
        .sort((a, b) => a.metres - b.metres)[0];
      return nearest && nearest.metres < 300
        ? t("consultation_results.near_place", { place: nearest.name })
        : t("consultation_results.at_coordinates", { lat: centre[1].toFixed(4), lon: centre[0].toFixed(4) });
    };
    const mapBox = h("div", { class: "map", id: `heat-${question.id}` });
    maps.push(async () => {
      try {
        const handle = await heatMap(mapBox, ctx, { slug, density: question.density, label: t("consultation_results.map_label", { question: question.prompt }) });
        if (left) return handle.map.remove();
        handles.push(handle);
        mapBox.dataset.ready = "true";
      } catch (error) {
        console.warn("no map", error);
        mapBox.replaceWith(h("p", { class: "notice warning" }, t("round.no_map")));
      }
    });
    const legend = h(
      "p",
      { class: "heat-legend meta" },
      t("consultation_results.legend_few"),
      " ",
      HEAT_COLOURS.map((colour) => {
        const swatch = h("span", { class: "heat-swatch", "aria-hidden": "true" });
        swatch.style.backgroundColor = colour;
        return swatch;
      }),
      " ",
      t("consultation_results.legend_many"),
    );
    return [
      h("p", {}, t("consultation_results.heat_explained", { metres: question.grid_metres })),
      mapBox,
      legend,
      cells.length
        ? table(caption, [t("consultation_results.square"), t("consultation_results.count")], cells.map((cell) => [describe(cell), i18n.number(cell.properties.count)]))
        : h("p", {}, t("consultation_results.no_points")),
      question.described ? h("p", {}, t("consultation_results.described", { count: question.described })) : null,
    ];
  }
}

