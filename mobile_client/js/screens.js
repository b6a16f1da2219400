// The screen registry: one line per screen. The router, the navigation and the server's deep links
// all follow it. A screen module exports `render(main, ctx)` (see docs/mobile-app.md).
//
//   path     "/reports/:id" (":name" parts become ctx.params.name)
//   load     () => import("../screens/x.js"): loaded when first opened, so a screen costs nothing before
//   title    text key of the page title
//   nav      {label, icon, order}: shown in the main navigation (role-aware)
//   roles    who sees it in the navigation and may open it (default: any signed-in device/account)
//   public   opens without a registered device (links from e-mails, the welcome screen)
//   preload  () => Promise: started at app start when the app opens on this screen (e.g. a map library)

export const RESIDENT = "resident";
export const FIELD_STAFF = "field_staff";
export const COUNCIL_MEMBER = "council_member";
export const ADMIN = "admin";

export const SCREENS = [
  { path: "/", load: () => import("../screens/report.js"), title: "report.title" },
  {
    path: "/report",
    load: () => import("../screens/report.js"),
    title: "report.title",
    nav: { label: "nav.report", icon: "plus", order: 10 },
  },
  {
    path: "/my-reports",
    load: () => import("../screens/my_reports.js"),
    title: "my_reports.title",
    nav: { label: "nav.my_reports", icon: "list", order: 20 },
  },
  { path: "/reports/:id", load: () => import("../screens/report_detail.js"), title: "detail.title", public: true },
  {
    path: "/nearby",
    load: () => import("../screens/nearby.js"),
    preload: () => import("../js/map.js").then((m) => m.loadMapLibrary()),
    title: "nearby.title",
    nav: { label: "nav.nearby", icon: "map", order: 30 },
  },
  {
    path: "/inbox",
    load: () => import("../screens/inbox.js"),
    title: "inbox.title",
    nav: { label: "nav.inbox", icon: "bell", order: 40, badge: "unread" },
  },
  {
    path: "/settings",
    load: () => import("../screens/settings.js"),
    title: "settings.title",
    nav: { label: "nav.settings", icon: "gear", order: 50 },
  },
  // Field staff: the work list of their departments, one report with its moves, merging duplicates.
  {
    path: "/work",
    load: () => import("../screens/worklist.js"),
    title: "work.title",
    nav: { label: "nav.work", icon: "work", order: 5 },
    roles: [FIELD_STAFF, ADMIN],
  },
  { path: "/work/:id", load: () => import("../screens/staff_report.js"), title: "staff.title", roles: [FIELD_STAFF, ADMIN] },
  { path: "/work/:id/merge", load: () => import("../screens/merge.js"), title: "merge.title", roles: [FIELD_STAFF, ADMIN] },
  // Council members: their council's motions, the neighbourhood dashboard, rounds of their areas.
  {
    path: "/motions",
    load: () => import("../screens/motions.js"),
    title: "motions.title",
    nav: { label: "nav.motions", icon: "motion", order: 6 },
    roles: [COUNCIL_MEMBER, ADMIN],
  },
  { path: "/motions/:id", load: () => import("../screens/motion.js"), title: "motion.title", roles: [COUNCIL_MEMBER, ADMIN] },
  {
    path: "/dashboard",
    load: () => import("../screens/dashboard.js"),
    title: "dashboard.title",
    nav: { label: "nav.dashboard", icon: "chart", order: 7 },
    roles: [COUNCIL_MEMBER, ADMIN],
  },
  {
    path: "/council/rounds",
    load: () => import("../screens/council_rounds.js"),
    title: "council_rounds.title",
    roles: [COUNCIL_MEMBER, ADMIN],
  },
  { path: "/account", load: () => import("../screens/account.js"), title: "account.title" },
  { path: "/account/confirm/:token", load: () => import("../screens/account_confirm.js"), title: "account_confirm.title", public: true },
  { path: "/account/reset/:token", load: () => import("../screens/account_reset.js"), title: "account_reset.title", public: true },
  { path: "/welcome", load: () => import("../screens/welcome.js"), title: "welcome.title", public: true },
  { path: "/feedback/:token", load: () => import("../screens/feedback.js"), title: "feedback.title", public: true },
  {
    path: "/unsubscribe/:token",
    load: () => import("../screens/unsubscribe.js"),
    title: "unsubscribe.title",
    public: true,
  },
];

export const NOT_FOUND = { path: "*", load: () => import("../screens/not_found.js"), title: "not_found.title", public: true };

/** Add screens from another module (e.g. participation, field staff) before the router starts. */
export function registerScreens(...screens) {
  SCREENS.push(...screens);
}
