// Settings: language, account, push on this device, which messages by which channel, area alerts.
import { h, heading, choices, field, button, announce, errorSentence, failure, loading } from "../js/ui.js";
import * as push from "../js/push.js";

const KINDS = ["report_updates", "satisfaction", "area_alerts", "participation"];
const CHANNELS = ["inbox", "email", "push"];

export async function render(main, ctx) {
  const { t, i18n, session } = ctx;
  main.append(heading(t("settings.title")));

  // Language
  main.append(
    choices({
      legend: t("settings.language"),
      name: "language",
      options: [
        { value: "nl", label: "Nederlands" },
        { value: "en", label: "English" },
      ],
      value: i18n.language(),
      onchange: async (event) => {
        await i18n.setLanguage(event.target.value);
        await ctx.rerender();
        announce(t("settings.language_changed"));
      },
    }),
  );

  // Account
  const me = session.get();
  const account = h("section", { "aria-labelledby": "account-title" }, h("h2", { id: "account-title" }, t("settings.account")));
  account.append(h("p", {}, t("settings.municipality", { name: me.jurisdiction.name })));
  if (me.anonymous) {
    account.append(h("p", {}, t("settings.anonymous")), h("a", { class: "button secondary", href: "/account" }, t("settings.make_account")));
  } else {
    account.append(
      h("p", {}, t("settings.signed_in", { email: me.email || "" })),
      h("p", {}, h("a", { href: "/account" }, t("settings.manage_account"))),
      button(t("settings.sign_out"), async () => {
        await session.signOut();
        ctx.navigate("/welcome");
      }, { kind: "warning" }),
    );
  }
  main.append(account);

  // Push on this device
  const pushSection = h("section", { "aria-labelledby": "push-title" }, h("h2", { id: "push-title" }, t("settings.push")));
  const pushStatus = h("p", { role: "status" });
  main.append(pushSection);
  if (!push.supported()) {
    pushSection.append(h("p", {}, t("settings.push_unsupported")));
  } else {
    const on = await push.enabled().catch(() => false);
    pushSection.append(h("p", {}, on ? t("settings.push_on") : t("settings.push_off")));
    pushSection.append(
      button(on ? t("settings.push_disable") : t("settings.push_enable"), async (event) => {
        event.target.disabled = true;
        try {
          if (on) await push.disable();
          else await push.enable();
          await ctx.rerender();
          announce(on ? t("settings.push_off") : t("settings.push_on"));
        } catch (error) {
          event.target.disabled = false;
          pushStatus.textContent = error.code === "push-denied" ? t("settings.push_denied") : t("settings.push_failed");
        }
      }, { kind: "secondary" }),
      pushStatus,
    );
  }

  // Preferences
  const preferences = h("section", { "aria-labelledby": "prefs-title" }, h("h2", { id: "prefs-title" }, t("settings.messages")), h("p", {}, t("settings.messages_intro")), loading());
  const areas = h("section", { "aria-labelledby": "areas-title" }, h("h2", { id: "areas-title" }, t("settings.areas")), loading());
  main.append(preferences, areas);
  await Promise.all([renderPreferences(ctx, preferences), renderAreas(ctx, areas)]);
}

async function renderPreferences(ctx, section) {
  const { t, api } = ctx;
  const title = section.querySelector("h2");
  const intro = section.querySelector("p");
  let current;
  try {
    current = await api.messages.preferences();
  } catch (error) {
    section.replaceChildren(title, failure(error, () => renderPreferences(ctx, section)));
    return;
  }
  section.replaceChildren(title, intro);
  const status = h("p", { role: "status", class: "meta" });
  for (const kind of KINDS) {
    const value = CHANNELS.filter((channel) => current?.[kind]?.[channel] !== false);
    section.append(
      choices({
        legend: t(`kind.${kind}`),
        name: `pref-${kind}`,
        type: "checkbox",
        options: CHANNELS.map((channel) => ({ value: channel, label: t(`channel.${channel}`) })),
        value,
        onchange: async (event) => {
          const input = event.target;
          try {
            await api.messages.setPreferences([{ kind, channel: input.value, enabled: input.checked }]);
            status.textContent = t("settings.saved");
          } catch (error) {
            input.checked = !input.checked;
            status.textContent = errorSentence(error);
          }
        },
      }),
    );
  }
  section.append(status);
}

async function renderAreas(ctx, section) {
  const { t, api } = ctx;
  const title = section.querySelector("h2");
  let subscriptions;
  let areas;
  try {
    [subscriptions, areas] = await Promise.all([api.messages.areaSubscriptions(), api.places.areas()]);
  } catch (error) {
    section.replaceChildren(title, failure(error, () => renderAreas(ctx, section)));
    return;
  }
  const byId = new Map(areas.map((a) => [a.id, a]));
  section.replaceChildren(title, h("p", {}, t("settings.areas_intro")));
  const status = h("p", { role: "status", class: "meta" });
  if (subscriptions.length) {
    const list = h("ul", { class: "cards" });
    for (const sub of subscriptions) {
      const name = byId.get(sub.area_id)?.name || `#${sub.area_id}`;
      list.append(
        h(
          "li",
          { class: "card" },
          h("div", { class: "body" }, h("h3", {}, name), h("p", { class: "meta" }, t(`settings.frequency_${sub.frequency}`))),
          button(t("settings.area_stop", { name }), async () => {
            try {
              await api.messages.unsubscribeArea(sub.area_id);
              announce(t("settings.area_stopped", { name }));
              renderAreas(ctx, section);
            } catch (error) {
              status.textContent = errorSentence(error);
            }
          }, { kind: "secondary" }),
        ),
      );
    }
    section.append(list);
  } else {
    section.append(h("p", {}, t("settings.no_areas")));
  }
  const choosable = areas.filter((a) => a.level !== "municipality" && !subscriptions.some((s) => s.area_id === a.id));
  if (!choosable.length) return section.append(status);
  const select = h("select", { name: "area" }, choosable.map((a) => h("option", { value: a.id }, `${a.name} (${t(`level.${a.level}`)})`)));
  const form = h("form", { novalidate: true });
  form.append(
    field({ label: t("settings.area_choose"), control: select, name: "area_id" }),
    choices({
      legend: t("settings.frequency"),
      name: "frequency",
      options: [
        { value: "instant", label: t("settings.frequency_instant") },
        { value: "daily", label: t("settings.frequency_daily") },
      ],
      value: "daily",
    }),
    button(t("settings.area_follow"), null, { type: "submit", kind: "secondary" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const frequency = form.querySelector('input[name="frequency"]:checked')?.value || "daily";
    try {
      await api.messages.subscribeArea(Number(select.value), frequency);
      const name = select.selectedOptions[0]?.textContent;
      await renderAreas(ctx, section);
      announce(t("settings.area_followed", { name }));
    } catch (error) {
      status.textContent = errorSentence(error);
    }
  });
  section.append(form, status);
}
