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
// Background job progress: <div class="job-progress" data-job-id="…"> polls /api/v1/jobs/{id}.
(function () {
  "use strict";
  function local(u) { return typeof u === "string" && u.charAt(0) === "/" && u.charAt(1) !== "/"; }
  function watch(box) {
    var id = box.getAttribute("data-job-id");
    var q = function (sel) { return box.querySelector(sel); };
    function show(j) {
      var bar = q("[data-job-bar]");
      if (bar) {
        bar.max = j.total > 0 ? j.total : 1;
        if (j.total > 0) { bar.value = j.done; } else if (j.finished) { bar.value = 1; } else { bar.removeAttribute("value"); }
      }
      var st = q("[data-job-status]"); if (st) { st.textContent = j.status_label; }
      var ct = q("[data-job-count]"); if (ct) { ct.textContent = j.total > 0 ? "（" + j.done + " / " + j.total + "）" : ""; }
      var msg = q("[data-job-message]");
      if (msg) { msg.textContent = j.message || ""; msg.className = j.status === "failed" ? "notice err" : ""; }
      var r = j.result || {};
      var link = q("[data-job-link]");
      if (link && local(r.link)) { link.href = r.link; link.hidden = false; }
      var rep = q("[data-job-report]");
      if (rep && local(r.report_url)) { rep.href = r.report_url; rep.hidden = false; }
    }
    function poll() {
      fetch("/api/v1/jobs/" + encodeURIComponent(id), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (res) { if (!res.ok) { throw new Error(res.status); } return res.json(); })
        .then(function (j) { show(j); if (!j.finished) { setTimeout(poll, 1000); } })
        .catch(function () { setTimeout(poll, 5000); });
    }
    if (box.getAttribute("data-finished") !== "1") { poll(); }
  }
  function init() {
    var boxes = document.querySelectorAll(".job-progress[data-job-id]");
    for (var i = 0; i < boxes.length; i++) { watch(boxes[i]); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
// Unread message badge in the header: one small request after the page has rendered.
(function () {
  "use strict";
  function init() {
    var badge = document.querySelector("[data-unread]");
    if (!badge || !window.fetch) { return; }
    fetch("/api/v1/notifications/unread", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { if (j && j.unread > 0) { badge.textContent = j.unread > 99 ? "99+" : String(j.unread); badge.hidden = false; } })
      .catch(function () {});
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
