// The screens of taking part (budget rounds and consultations), added to the registry at start.
// Pages opened from letters and messages are public: they work on a phone that never opened the app
// (`?j=` names the jurisdiction); answering, proposing and following need a registered device.
import { registerScreens } from "./screens.js";

registerScreens(
  {
    path: "/take-part",
    load: () => import("../screens/take_part.js"),
    title: "take_part.title",
    nav: { label: "nav.take_part", icon: "vote", order: 25 },
  },
  { path: "/rounds/:id", load: () => import("../screens/round.js"), title: "round.title", public: true },
  { path: "/rounds/:id/propose", load: () => import("../screens/propose.js"), title: "propose.title" },
  { path: "/rounds/:id/vote", load: () => import("../screens/ballot.js"), title: "ballot.title", public: true },
  { path: "/rounds/:id/results", load: () => import("../screens/results.js"), title: "results.title", public: true },
  {
    path: "/rounds/:id/projects/:project",
    load: () => import("../screens/project.js"),
    title: "project.title",
    public: true,
  },
  { path: "/vote", load: () => import("../screens/vote_code.js"), title: "vote_code.title", public: true },
  {
    path: "/consultation-rounds/:id",
    load: () => import("../screens/consultation.js"),
    title: "consultation.title",
  },
  {
    path: "/consultation-rounds/:id/results",
    load: () => import("../screens/consultation_results.js"),
    title: "consultation_results.title",
    public: true,
  },
);
