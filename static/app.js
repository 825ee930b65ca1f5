// Progressive enhancement only: every page reads and works without this file.
import { initAll } from "./vendor/nhsuk-frontend/nhsuk-frontend.min.js";

initAll();

// After htmx swaps in a form with errors, move focus to its error summary (as NHS.UK
// forms do on a full page load) so screen-reader users hear what went wrong.
document.body.addEventListener("htmx:afterSwap", (event) => {
  const summary = event.detail.target.querySelector?.(".nhsuk-error-summary");
  if (summary) summary.focus();
});

// Countdowns (".wf-due"): the server draws them; this keeps them moving between the
// board's refreshes, turning amber near the deadline and red once it has passed. Time is
// counted from the server's clock (data-now), so a ward PC with a wrong clock still shows
// the right countdown.
function formatDuration(minutes) {
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days) return `${days} day${days === 1 ? "" : "s"}${hours ? ` ${hours} h` : ""}`;
  if (hours) return `${hours} h${mins ? ` ${mins} min` : ""}`;
  return `${mins} min`;
}

function tickCountdowns() {
  for (const el of document.querySelectorAll(".wf-due[data-due][data-now]")) {
    if (el.dataset.skew === undefined) {
      el.dataset.skew = String(Date.parse(el.dataset.now) - Date.now());
    }
    const now = Date.now() + Number(el.dataset.skew);
    const seconds = (Date.parse(el.dataset.due) - now) / 1000;
    const amber = Number(el.dataset.amber || 1800);
    if (seconds > 0) {
      el.textContent = `in ${formatDuration(Math.ceil(seconds / 60))}`;
    } else {
      const minutes = Math.floor(-seconds / 60);
      el.textContent = minutes === 0 ? "due now" : `${formatDuration(minutes)} overdue`;
    }
    el.classList.toggle("wf-due--red", seconds <= 0);
    el.classList.toggle("wf-due--amber", seconds > 0 && seconds <= amber);
  }
}

tickCountdowns();
setInterval(tickCountdowns, 15000);
document.body.addEventListener("htmx:afterSettle", tickCountdowns);

// Waiting clocks (".wf-waiting"): how long since the decision to admit (data-since), drawn
// by the server and kept moving here against the server's clock (data-now); red once the
// wait passes the ADM_WAIT threshold (data-due). The waiting list itself refreshes every 30 s.
function tickWaiting() {
  for (const el of document.querySelectorAll(".wf-waiting[data-since][data-now]")) {
    if (el.dataset.skew === undefined) {
      el.dataset.skew = String(Date.parse(el.dataset.now) - Date.now());
    }
    const now = Date.now() + Number(el.dataset.skew);
    const minutes = Math.max(0, Math.floor((now - Date.parse(el.dataset.since)) / 60000));
    el.textContent = formatDuration(minutes);
    if (el.dataset.due) el.classList.toggle("wf-waiting--over", now >= Date.parse(el.dataset.due));
  }
}

tickWaiting();
setInterval(tickWaiting, 15000);
document.body.addEventListener("htmx:afterSettle", tickWaiting);
