// "Read aloud": progressive enhancement with the browser's own speech synthesis.
// The button stays hidden where speech is not available; every page works without it.
(function () {
  "use strict";
  if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined") {
    return;
  }
  var lang = document.documentElement.lang || "en";
  document.querySelectorAll("[data-read-aloud]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-read-aloud"));
    if (!target) {
      return;
    }
    var startLabel = button.innerHTML;
    var stopLabel = button.getAttribute("data-label-stop");
    button.hidden = false;
    button.setAttribute("aria-pressed", "false");
    function reset() {
      button.innerHTML = startLabel;
      button.setAttribute("aria-pressed", "false");
    }
    button.addEventListener("click", function () {
      if (window.speechSynthesis.speaking) {
        window.speechSynthesis.cancel();
        reset();
        return;
      }
      var utterance = new SpeechSynthesisUtterance(target.innerText);
      utterance.lang = lang;
      utterance.rate = 0.9;
      utterance.onend = reset;
      utterance.onerror = reset;
      button.textContent = stopLabel;
      button.setAttribute("aria-pressed", "true");
      window.speechSynthesis.speak(utterance);
    });
  });
})();
