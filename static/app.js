"use strict";

// ---- channels admin (copy webhook URLs) ------------------------------------------------
document.addEventListener("click", function (ev) {
  var b = ev.target instanceof Element ? ev.target.closest("button[data-copy]") : null;
  if (!b || !navigator.clipboard) return;
  navigator.clipboard.writeText(b.getAttribute("data-copy")).then(function () {
    var label = b.textContent;
    b.textContent = "✓";
    setTimeout(function () { b.textContent = label; }, 1500);
  });
});
// ---- end channels admin ------------------------------------------------------------------
