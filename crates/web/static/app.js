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
// 评价工作计划: show the last submission date for the chosen start date (二(二)).
(function () {
  "use strict";
  var input = document.getElementById("f-start_date");
  if (!input || !window.fetch) { return; }
  var out = document.createElement("div");
  out.className = "hint";
  out.setAttribute("aria-live", "polite");
  input.parentNode.appendChild(out);
  function update() {
    if (!input.value) { out.textContent = ""; return; }
    fetch("/api/v1/calendar/latest-submission?start=" + encodeURIComponent(input.value), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) { out.textContent = j.text || j.message || ""; })
      .catch(function () { out.textContent = ""; });
  }
  input.addEventListener("change", update);
  update();
})();
// Import progress: <div data-job="id" data-done="url" data-failed="url"> with a <progress>.
(function () {
  "use strict";
  var box = document.querySelector("[data-job]");
  if (!box || !window.fetch) { return; }
  var bar = box.querySelector("progress"), text = box.querySelector("[data-job-text]");
  function poll() {
    fetch("/api/v1/imports/" + box.getAttribute("data-job"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (bar) { bar.value = j.percent || 0; }
        if (text) { text.textContent = (j.percent || 0) + "% " + (j.message || ""); }
        if (j.state === "done") { window.location = box.getAttribute("data-done"); }
        else if (j.state === "failed") { window.location = box.getAttribute("data-failed"); }
        else { setTimeout(poll, 700); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
