// Progressive enhancement only: every page reads and works without this file.
import { initAll } from "./vendor/nhsuk-frontend/nhsuk-frontend.min.js";

initAll();

// After htmx swaps in a form with errors, move focus to its error summary (as NHS.UK
// forms do on a full page load) so screen-reader users hear what went wrong.
document.body.addEventListener("htmx:afterSwap", (event) => {
  const summary = event.detail.target.querySelector?.(".nhsuk-error-summary");
  if (summary) summary.focus();
});
