// Live pages: what htmx's polling needs around it. Loaded by base.html on every page; it does nothing on a
// page without polled sections.
//
// - Polls (a section whose hx-trigger has "every …") are skipped while the tab is hidden, so a tab left in
//   the background costs the server nothing. A section that also triggers on "visibilitychange
//   from:document" (the run's status) polls at once when the tab is shown again. A trigger filter such as
//   [document.visibilityState === 'visible'] would say the same, but htmx evaluates filters with eval, which
//   the Content-Security-Policy refuses.
// - A poll that cannot reach the server (a network error, a 5xx answer) shows #connection-notice (base.html)
//   instead of leaving a stale page looking live; the next poll that gets through clears it. An expired
//   session is answered by the server itself (accounts.middleware: HX-Redirect to the login page).
// - On a run's page the title follows the status section (data-title: "▶ 12/55 · Run …"), and "Notify me
//   when it ends" asks for the browser's permission when clicked (never on load) and notifies once, when the
//   section says the run has ended (data-active="false").
//
// htmx 2 and htmx 4 name their events differently; both are listened to, so the pages work with either.
(function () {
  "use strict";

  var POLL = /(^|,)\s*every\s/;
  var NOTIFY_KEY = "shiftbench:notify:" + location.pathname;

  function sourceOf(event) {
    var detail = event.detail || {};
    var config = detail.requestConfig || {};
    return detail.elt || config.elt || (detail.ctx && detail.ctx.sourceElement) || event.target;
  }

  function isPoll(elt) {
    var trigger = elt && elt.getAttribute && elt.getAttribute("hx-trigger");
    return !!trigger && POLL.test(trigger);
  }

  function statusOf(event) {
    var detail = event.detail || {};
    if (detail.xhr) return detail.xhr.status;
    if (detail.ctx && detail.ctx.response) return detail.ctx.response.status;
    return 0; // no answer at all: the request never reached the server
  }

  function on(names, handler) {
    names.forEach(function (name) { document.addEventListener(name, handler); });
  }

  // --- pause while hidden ---
  on(["htmx:beforeRequest", "htmx:before:request"], function (event) {
    if (document.visibilityState === "hidden" && isPoll(sourceOf(event))) event.preventDefault();
  });

  // --- connection lost, retrying ---
  function connectionLost(lost) {
    var notice = document.getElementById("connection-notice");
    if (notice) notice.hidden = !lost;
  }
  on(["htmx:sendError"], function (event) {
    if (isPoll(sourceOf(event))) connectionLost(true);
  });
  on(["htmx:responseError", "htmx:response:error"], function (event) {
    if (isPoll(sourceOf(event)) && statusOf(event) >= 500) connectionLost(true);
  });
  on(["htmx:error"], function (event) { // htmx 4: also a network error (no response)
    var ctx = (event.detail || {}).ctx;
    if (ctx && !ctx.response && isPoll(sourceOf(event))) connectionLost(true);
  });
  // A poll that got an answer. htmx 2 sends afterRequest to the section it polled from, which an outerHTML
  // swap has taken out of the page by then (the event no longer reaches the document): beforeSwap is
  // heard instead.
  on(["htmx:beforeSwap", "htmx:afterRequest", "htmx:after:request"], function (event) {
    var status = statusOf(event);
    if (isPoll(sourceOf(event)) && status >= 200 && status < 400) connectionLost(false);
  });

  // --- the run page: title and "Notify me when it ends" ---
  var canNotify = "Notification" in window;

  function notifyState(text) {
    var state = document.querySelector("#run-notify .notify-state");
    if (state && state.textContent !== text) state.textContent = text; // no change, no mutation: no loop
  }

  function syncRun() {
    var section = document.getElementById("run-status");
    if (!section) return;
    if (section.dataset.title && document.title !== section.dataset.title) document.title = section.dataset.title;
    var box = document.getElementById("run-notify");
    var active = section.dataset.active === "true";
    var wanted = sessionStorage.getItem(NOTIFY_KEY) === "yes";
    if (!active && wanted) {
      sessionStorage.removeItem(NOTIFY_KEY);
      if (canNotify && Notification.permission === "granted") {
        new Notification(section.dataset.title || document.title, { body: section.dataset.summary || "", tag: NOTIFY_KEY });
      }
    }
    if (!box) return;
    // Hidden where the browser cannot notify, and where notifications are blocked (unless that was the
    // answer to this page's own click: its message stays).
    box.hidden = !(active && canNotify && (Notification.permission !== "denied" || box.dataset.asked));
    if (active && wanted) {
      box.querySelector(".notify-button").disabled = true;
      notifyState("You will be notified when it ends.");
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#run-notify .notify-button");
    if (!button || !canNotify) return;
    button.closest("#run-notify").dataset.asked = "yes";
    Notification.requestPermission().then(function (permission) {
      if (permission === "granted") {
        sessionStorage.setItem(NOTIFY_KEY, "yes");
        syncRun();
      } else {
        notifyState("Notifications are blocked for this site: allow them in the browser to be notified.");
      }
    });
  });

  // Swaps replace the status section (htmx 2 and 4 alike): watch the page rather than htmx's events.
  new MutationObserver(syncRun).observe(document.body, { childList: true, subtree: true });
  syncRun();
})();
