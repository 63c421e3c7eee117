// skilleval — progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Ask before irreversible actions: <form data-confirm="确认……？">
  document.addEventListener("submit", function (e) {
    var f = e.target;
    var msg = f.getAttribute && f.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
  // Print buttons: <button data-print>
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t && t.hasAttribute && t.hasAttribute("data-print")) { e.preventDefault(); window.print(); }
  });
})();
