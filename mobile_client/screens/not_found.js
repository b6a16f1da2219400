import { h, heading } from "../js/ui.js";

export function render(main, ctx) {
  main.append(heading(ctx.t("not_found.title")), h("p", {}, ctx.t("not_found.text")), h("a", { class: "button primary", href: "/" }, ctx.t("not_found.home")));
}
