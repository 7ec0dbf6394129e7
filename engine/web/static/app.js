// Progressive enhancement only: every page works without this file.
// - a job page follows its job (progress bar, stage) and reloads when it ends;
// - buttons with data-confirm ask first.
(function () {
  "use strict";
  var job = document.querySelector("[data-job]");
  if (job && ["queued", "running"].indexOf(job.getAttribute("data-state")) >= 0) {
    var id = job.getAttribute("data-job");
    var bar = job.querySelector("progress");
    var field = function (name) { return job.querySelector('[data-field="' + name + '"]'); };
    var poll = function () {
      fetch("/jobs/" + id + ".json", {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (j) {
          if (j.state === "done" || j.state === "failed") { window.location.reload(); return; }
          field("state_label").textContent = j.state_label;
          field("stage").textContent = j.stage;
          field("count").textContent = j.total ? (j.done + " / " + j.total) : "";
          if (j.total) { bar.value = j.percent; bar.classList.remove("indeterminate"); }
          else { bar.removeAttribute("value"); }
          setTimeout(poll, 700);
        })
        .catch(function () { setTimeout(poll, 2000); });
    };
    setTimeout(poll, 400);
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-confirm]");
    if (b && !window.confirm(b.getAttribute("data-confirm"))) { e.preventDefault(); }
  });
})();

// Policies: the YAML editor (line numbers, problems at their lines, live check) and the rule forms'
// live check.  The server answers with the same problems `wangge validate` gives; nothing is saved.
(function () {
  "use strict";
  var csrfOf = function (form) { var i = form.querySelector('input[name="csrf"]'); return i ? i.value : ""; };
  var debounce = function (fn, ms) { var t; return function () { clearTimeout(t); t = setTimeout(fn, ms); }; };
  var el = function (tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };

  function problemTable(list, onLine) {
    var table = el("table", undefined, "problems");
    var head = table.createTHead().insertRow();
    ["行", "位置", "发现", "应为"].forEach(function (h) { head.appendChild(el("th", h)); });
    var body = table.createTBody();
    list.forEach(function (p) {
      var tr = body.insertRow();
      var td = tr.insertCell(); td.className = "num";
      if (p.line) {
        var a = el("a", "第 " + p.line + " 行", "line-link"); a.href = "#L" + p.line; a.setAttribute("data-line", p.line);
        if (onLine) a.addEventListener("click", function (e) { e.preventDefault(); onLine(p.line); });
        td.appendChild(a);
      } else { td.textContent = "—"; }
      tr.insertCell().appendChild(el("code", p.field || ""));
      tr.insertCell().appendChild(el("code", p.found === null ? "（缺失）" : p.found));
      var exp = tr.insertCell(); exp.textContent = p.expected || "";
      if (p.hint) exp.appendChild(el("div", p.hint.length > 600 ? p.hint.slice(0, 600) + "…" : p.hint, "hint"));
    });
    return table;
  }

  // ---- the YAML editor
  var area = document.getElementById("yaml");
  var editor = area && area.closest("form.yaml-editor");
  if (editor && !window.WanggeCodeEditor) {
    var gutter = el("pre", "", "gutter");
    area.parentNode.insertBefore(gutter, area);
    var marked = {};
    var numbers = function () {
      var n = area.value.split("\n").length, out = [];
      for (var i = 1; i <= n; i++) { out.push(marked[i] ? "▶" + i : String(i)); }
      gutter.textContent = out.join("\n");
      gutter.scrollTop = area.scrollTop;
    };
    var goLine = function (line) {
      var lines = area.value.split("\n"), pos = 0;
      for (var i = 0; i < line - 1 && i < lines.length; i++) { pos += lines[i].length + 1; }
      area.focus();
      area.setSelectionRange(pos, pos + (lines[line - 1] || "").length);
      var lh = parseFloat(getComputedStyle(area).lineHeight) || 18;
      area.scrollTop = Math.max(0, (line - 5) * lh);
      gutter.scrollTop = area.scrollTop;
    };
    area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });
    document.querySelectorAll(".check-list a.line-link").forEach(function (a) {
      a.addEventListener("click", function (e) { e.preventDefault(); goLine(+a.getAttribute("data-line")); });
      marked[+a.getAttribute("data-line")] = true;
    });
    var status = editor.querySelector(".check-status");
    var list = document.querySelector(".check-results .check-list");
    var sent = 0;
    var check = function () {
      if (area.readOnly) return;
      var body = new FormData(); body.append("text", area.value); body.append("csrf", csrfOf(editor));
      status.textContent = "检查中…";
      var mine = ++sent;
      fetch(editor.getAttribute("data-check"), {method: "POST", body: body, credentials: "same-origin",
                                                 headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (j) {
          if (mine !== sent) return;          // an answer to older text: a newer check is on its way
          marked = {};
          (j.problems || []).concat(j.mismatches || []).forEach(function (p) { if (p.line) marked[p.line] = true; });
          numbers();
          list.textContent = "";
          if (j.problems && j.problems.length) { list.appendChild(problemTable(j.problems, goLine)); }
          if (j.mismatches && j.mismatches.length) {
            list.appendChild(el("h3", "示例的应得结果与按细则算出的不同", "warn"));
            list.appendChild(problemTable(j.mismatches, goLine));
          }
          if (!(j.problems || []).length && !(j.mismatches || []).length) { list.appendChild(el("p", "没有问题。", "ok")); }
          status.textContent = j.problems && j.problems.length ? j.problems.length + " 处问题（未保存）"
            : (j.mismatches && j.mismatches.length ? "格式无误；" + j.mismatches.length + " 处示例结果不同" : "检查通过");
          status.className = "check-status " + (j.problems && j.problems.length ? "bad" : "ok");
        })
        .catch(function () { status.textContent = "检查失败（网络）"; });
    };
    area.addEventListener("input", function () { numbers(); });
    area.addEventListener("input", debounce(check, 700));
    area.addEventListener("keydown", function (e) {      // Tab indents two spaces (YAML has no tabs)
      if (e.key === "Tab") { e.preventDefault(); var s = area.selectionStart;
        area.setRangeText("  ", s, area.selectionEnd, "end"); numbers(); }
    });
    numbers();
    var m = /^#L(\d+)$/.exec(window.location.hash);
    if (m) { goLine(+m[1]); }
  }

  // ---- rule forms and the sheet: checked as they are filled in
  document.querySelectorAll("form[data-live]").forEach(function (form) {
    var status = form.querySelector(".check-status");
    var sent = 0;
    var check = function () {
      var body = new FormData(form); body.set("check", "1"); body.delete("op");
      status.textContent = "检查中…";
      var mine = ++sent;
      fetch(form.getAttribute("action"), {method: "POST", body: body, credentials: "same-origin",
                                          headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (j) {
          if (mine !== sent) return;          // an answer to an older state of the form
          if (j.error) { status.textContent = j.error; status.className = "check-status bad"; return; }
          form.querySelectorAll(".field-error").forEach(function (d) {
            var msgs = (j.fields || {})[d.getAttribute("data-for")] || [];
            d.textContent = msgs.join("；");
          });
          var other = form.querySelector(".other-problems") || form.querySelector(".check-list");
          if (other) {
            other.textContent = "";
            var rest = (j.other || j.problems || []);
            if (rest.length) { other.appendChild(el("h3", (j.other ? "细则其他地方的问题" : rest.length + " 处问题"), "bad"));
                               other.appendChild(problemTable(rest)); }
            if ((j.mismatches || []).length) { other.appendChild(el("h3", "示例的应得结果与按修改后规则算出的不同", "warn"));
                                               other.appendChild(problemTable(j.mismatches)); }
          }
          var n = Object.keys(j.fields || {}).reduce(function (a, k) { return a + j.fields[k].length; }, 0) + (j.other || j.problems || []).length;
          status.textContent = n ? n + " 处问题" : (j.mismatches && j.mismatches.length ? "规则无误；示例结果不同" : "检查通过");
          status.className = "check-status " + (n ? "bad" : "ok");
        })
        .catch(function () { status.textContent = "检查失败（网络）"; });
    };
    var later = debounce(check, 600);
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  });
})();

// Roster calendars: a click on a day cell fills the hand-adjustment form of its table.
(function () {
  "use strict";
  document.querySelectorAll("table.calendar").forEach(function (table) {
    table.addEventListener("click", function (e) {
      var td = e.target.closest("td[data-day]");
      var form = td && document.querySelector("form.adjust-form[data-sheet='" + td.getAttribute("data-sheet") + "']");
      if (!form) return;
      form.querySelector("[name=key]").value = td.getAttribute("data-key");
      form.querySelector("[name=day]").value = td.getAttribute("data-day");
      var value = form.querySelector("[name=value]");
      if (value.tagName === "INPUT") { value.value = td.textContent.replace(/[(（×·].*$/, ""); }
      form.scrollIntoView({block: "center"});
      value.focus();
    });
  });
})();

// The print page's button.
(function () {
  "use strict";
  var b = document.querySelector("button[data-print]");
  if (b) b.addEventListener("click", function () { window.print(); });
})();
