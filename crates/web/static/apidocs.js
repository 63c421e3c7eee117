// Renders /api/openapi.json as a readable list: our own viewer, nothing fetched from outside.
(function () {
  "use strict";
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  fetch("/api/openapi.json").then(function (r) { return r.json(); }).then(function (doc) {
    document.getElementById("api-intro").textContent = (doc.info.title || "") + " · 版本 " + doc.info.version + " · " + (doc.info.description || "");
    var list = document.getElementById("api-list");
    Object.keys(doc.paths).sort().forEach(function (path) {
      var ops = doc.paths[path];
      Object.keys(ops).forEach(function (method) {
        var op = ops[method];
        var card = el("section", "card");
        var h = el("h2", null, method.toUpperCase() + " " + path);
        card.appendChild(h);
        if (op.tags) card.appendChild(el("p", "muted", "分类：" + op.tags.join("、")));
        if (op.parameters && op.parameters.length) {
          var t = el("table", "list"), head = el("tr");
          ["参数", "位置", "必填", "说明"].forEach(function (x) { head.appendChild(el("th", null, x)); });
          t.appendChild(head);
          op.parameters.forEach(function (p) {
            var tr = el("tr");
            [p.name, p.in, p.required ? "是" : "否", p.description || ""].forEach(function (x) { tr.appendChild(el("td", null, x)); });
            t.appendChild(tr);
          });
          card.appendChild(t);
        }
        if (op.requestBody) {
          var ref = JSON.stringify(op.requestBody.content["application/json"].schema);
          card.appendChild(el("p", "mono", "请求体：" + ref));
        }
        var ul = el("ul");
        Object.keys(op.responses || {}).forEach(function (code) {
          ul.appendChild(el("li", null, code + "：" + (op.responses[code].description || "")));
        });
        card.appendChild(ul);
        list.appendChild(card);
      });
    });
    var schemas = (doc.components && doc.components.schemas) || {};
    Object.keys(schemas).forEach(function (name) {
      var card = el("section", "card");
      card.appendChild(el("h2", null, "数据结构 " + name));
      card.appendChild(el("pre", "mono", JSON.stringify(schemas[name], null, 2)));
      list.appendChild(card);
    });
  }).catch(function () { document.getElementById("api-intro").textContent = "无法载入 openapi.json"; });
})();
