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
