// The "Sealing the record" page: ask the same address every few seconds whether the record is
// finalized (JSON: {"next": url or null, "started": bool, "stalled": bool}); go there when told.
// Without this script the page's own button asks again.
(function () {
  "use strict";
  var root = document.querySelector("[data-finalizing-poll]");
  if (!root) return;
  var every = parseInt(root.getAttribute("data-finalizing-poll"), 10) || 2000;
  var started = document.getElementById("finalizing-started");
  var queued = document.getElementById("finalizing-queued");
  var stalled = document.getElementById("finalizing-stalled");

  function ask() {
    fetch(window.location.pathname, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (state) {
        if (state.next) {
          window.location.assign(state.next);
          return;
        }
        if (started && queued) {
          started.hidden = !state.started;
          queued.hidden = state.started;
        }
        if (stalled) stalled.hidden = !state.stalled;
        window.setTimeout(ask, every);
      })
      .catch(function () {
        // A dropped connection or a restarting server: keep asking, a little slower.
        window.setTimeout(ask, every * 2);
      });
  }
  window.setTimeout(ask, every);
})();
