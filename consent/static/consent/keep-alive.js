// Decision pages: keep the patient's session alive while they type or draw (signing can take
// longer than the idle time-out). Only real input counts (a key, a tick, the pen on the pad);
// a screen left alone sends nothing, so the idle time-out still ends an abandoned session.
// At most one ping per interval (data-keep-alive-interval, in ms, set by the server: a quarter
// of the time-out, at most 5 minutes); a same-origin POST with the form's CSRF token, which
// the server answers with 204 and no body (consent/views/patient/keep_alive.py).
(function () {
  "use strict";
  var script = document.querySelector("script[data-keep-alive-url]");
  var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (!script || !tokenInput || typeof window.fetch !== "function") {
    return;
  }
  var url = script.getAttribute("data-keep-alive-url");
  var interval = parseInt(script.getAttribute("data-keep-alive-interval"), 10);
  if (!url || !(interval > 0)) {
    return;
  }
  // The page's own request counts as the last activity the server saw.
  var lastRequest = Date.now();
  var sending = false;
  var stopped = false;
  var submitting = false;

  function ping() {
    sending = true;
    lastRequest = Date.now();
    window
      .fetch(url, {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        redirect: "manual",
        headers: { "X-CSRFToken": tokenInput.value },
      })
      .then(function (response) {
        // Anything but 204: the session has timed out (410) or cannot go on. Open this page
        // again at once, which says how to go on, rather than let the patient sign in vain;
        // unless the form is being sent, whose answer says it.
        if (response.status !== 204) {
          stopped = true;
          if (!submitting) {
            window.location.assign(window.location.pathname);
          }
        }
      })
      .catch(function () {
        // Offline for a moment: the next input tries again.
      })
      .then(function () {
        sending = false;
      });
  }

  function onInput(event) {
    if (!event.isTrusted || stopped || sending) {
      return;
    }
    // A pointer moving over the page is not input; a pen or finger drawing is.
    if (event.type === "pointermove" && !event.buttons) {
      return;
    }
    if (Date.now() - lastRequest >= interval) {
      ping();
    }
  }

  ["keydown", "input", "change", "pointerdown", "pointermove"].forEach(function (type) {
    document.addEventListener(type, onInput, { capture: true, passive: true });
  });
  // Sending the form is a request of its own: the clock starts again from there.
  document.addEventListener("submit", function () {
    submitting = true;
    lastRequest = Date.now();
  });
})();
