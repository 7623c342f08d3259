// Drawn signature: progressive enhancement with signature_pad (vendor/signature_pad, v5).
// Without JavaScript the drawing area stays hidden and the typed name alone signs. On submit the
// drawing goes into the form's hidden input as a PNG data URL; an empty pad sends nothing.
(function () {
  "use strict";
  if (typeof window.SignaturePad === "undefined") {
    return;
  }

  function setUp(area) {
    var canvas = area.querySelector("canvas");
    var input = document.getElementById(area.getAttribute("data-signature-input"));
    var clearButton = area.querySelector("[data-signature-clear]");
    var status = area.querySelector("[data-signature-status]");
    if (!canvas || !input || !input.form) {
      return;
    }
    area.hidden = false;

    var pad = new window.SignaturePad(canvas, {
      penColor: "#0b1f33",
      backgroundColor: "rgb(255, 255, 255)",
      minWidth: 1,
      maxWidth: 3.5,
    });
    // A drawing accepted before the page came back with a message (a statement not ticked):
    // drawn again so that the patient need not sign twice.
    var restored = input.value.indexOf("data:image/png;base64,") === 0 ? input.value : "";
    var shownWidth = 0;

    // The canvas's pixels follow its CSS size times the device pixel ratio, so that lines are
    // crisp on phones and the pen sits under the finger (signature_pad's own advice).
    function resize() {
      var width = canvas.offsetWidth;
      var height = canvas.offsetHeight;
      // Phones fire "resize" when the address bar slides; only a new width needs new pixels.
      if (!width || !height || width === shownWidth) {
        return;
      }
      shownWidth = width;
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var strokes = pad.toData();
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      if (restored) {
        pad
          .fromDataURL(restored, { ratio: ratio, width: width, height: height })
          .then(function () {
            pad.fromData(strokes, { clear: false });
          });
      } else if (strokes.length) {
        pad.fromData(strokes);
      }
    }

    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }

    window.addEventListener("resize", resize);
    resize();

    pad.addEventListener("beginStroke", function () {
      say("");
    });

    clearButton.addEventListener("click", function () {
      pad.clear();
      restored = "";
      input.value = "";
      say(area.getAttribute("data-label-cleared") || "");
    });

    input.form.addEventListener("submit", function () {
      input.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
    });
  }

  document.querySelectorAll("[data-signature-pad]").forEach(setUp);
})();
