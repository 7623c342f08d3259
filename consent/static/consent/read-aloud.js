// "Read aloud": the button at the top of every patient page reads the page's main content with
// the browser's own speech synthesis. Progressive enhancement: without JavaScript the button
// stays hidden and every page works without it. Where the device cannot speak (no speech
// synthesis, no voice once the voices have loaded, or a speech error), the status next to the
// button says so plainly instead of doing nothing.
(function () {
  "use strict";
  var VOICE_WAIT_MS = 1500; // how long a click waits for the voices to load

  var synth = window.speechSynthesis;
  var Utterance = window.SpeechSynthesisUtterance;
  var canTry = !!synth && typeof synth.speak === "function" && typeof Utterance === "function";
  var lang = document.documentElement.lang || "en";

  function voiceCount() {
    try {
      return typeof synth.getVoices === "function" ? synth.getVoices().length : 1;
    } catch (error) {
      return 0;
    }
  }

  // Voices often load after the page: ask for them now, so a click usually finds them ready.
  var voicesKnown = canTry && voiceCount() > 0;
  var voiceWaiters = [];
  function voicesChanged() {
    voicesKnown = voiceCount() > 0;
    var waiting = voiceWaiters;
    voiceWaiters = [];
    waiting.forEach(function (waiter) {
      waiter();
    });
  }
  if (canTry && typeof synth.addEventListener === "function") {
    synth.addEventListener("voiceschanged", voicesChanged);
  }

  // Call `then(hasVoice)` at once if voices are known, else when they load or after a while.
  function withVoices(then) {
    if (voicesKnown) {
      then(true);
      return;
    }
    var done = false;
    function finish() {
      if (!done) {
        done = true;
        then(voiceCount() > 0);
      }
    }
    voiceWaiters.push(finish);
    window.setTimeout(finish, VOICE_WAIT_MS);
  }

  // The main content as the patient sees it, one paragraph per utterance (browsers cut long
  // utterances short).
  function paragraphs(target) {
    return (target.innerText || target.textContent || "")
      .split(/\n+/)
      .map(function (line) {
        return line.replace(/\s+/g, " ").trim();
      })
      .filter(function (line) {
        return line.length > 0;
      });
  }

  document.querySelectorAll("[data-read-aloud]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-read-aloud"));
    var status = document.getElementById(button.getAttribute("data-read-aloud-status"));
    if (!target) {
      return;
    }
    var label = button.querySelector(".read-aloud-label") || button;
    var startLabel = label.textContent;
    var stopLabel = button.getAttribute("data-label-stop");
    var cannotSpeak = button.getAttribute("data-cannot-speak");
    var reading = false;
    button.hidden = false;
    button.setAttribute("aria-pressed", "false");

    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }
    function reset() {
      reading = false;
      label.textContent = startLabel;
      button.setAttribute("aria-pressed", "false");
    }
    function cannot() {
      reset();
      say(cannotSpeak);
    }

    function read() {
      var parts = paragraphs(target);
      if (!parts.length) {
        reset();
        return;
      }
      reading = true;
      label.textContent = stopLabel;
      button.setAttribute("aria-pressed", "true");
      say("");
      try {
        synth.cancel();
        parts.forEach(function (text, index) {
          var utterance = new Utterance(text);
          utterance.lang = lang;
          utterance.rate = 0.9;
          utterance.onerror = function (event) {
            // "interrupted" and "canceled" are the reader's own stop; anything else means the
            // device could not speak.
            var why = event && event.error;
            if (why === "interrupted" || why === "canceled") {
              if (reading && index === parts.length - 1) {
                reset();
              }
              return;
            }
            if (reading) {
              reading = false;
              synth.cancel();
              cannot();
            }
          };
          if (index === parts.length - 1) {
            utterance.onend = reset;
          }
          synth.speak(utterance);
        });
      } catch (error) {
        cannot();
      }
    }

    button.addEventListener("click", function () {
      if (!canTry) {
        cannot();
        return;
      }
      if (reading) {
        reading = false;
        synth.cancel();
        reset();
        return;
      }
      withVoices(function (hasVoice) {
        if (hasVoice) {
          read();
        } else {
          cannot();
        }
      });
    });
  });
})();
