// The segment builder: checks the rule as you type (POST
// /api/v1/segments/validate) and shows the problems with their field,
// and on "Check size" asks for a dry run over the current data.
(function () {
  "use strict";
  const form = document.getElementById("builder");
  if (!form) { return; }
  const problems = document.getElementById("problems");
  const dry = document.getElementById("dry-run");
  const sample = document.getElementById("sample");
  const csrf = form.querySelector("input[name=csrf_token]").value;
  const nf = new Intl.NumberFormat(navigator.language || "en");
  function definition() {
    const h = form.elements.holdout_percent.value;
    const d = { name: form.elements.name.value.trim(), description: form.elements.description.value, expr: form.elements.expr.value };
    if (h !== "") { d.holdout_percent = Number(h); }
    return d;
  }
  function post(path) {
    return fetch(path, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(definition()) })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); });
  }
  function show(v) {
    problems.textContent = "";
    (v.problems || []).forEach(function (p) { problems.appendChild(document.createTextNode((p.path ? p.path + ": " : "") + p.message)); problems.appendChild(document.createElement("br")); });
    form.dataset.valid = String(v.valid);
  }
  let timer = null, seq = 0;
  form.addEventListener("input", function () {
    clearTimeout(timer);
    dry.textContent = ""; sample.textContent = "";
    timer = setTimeout(function () {
      const mine = ++seq;
      post("/api/v1/segments/validate").then(function (v) { if (mine === seq) { show(v); } }).catch(function (e) { problems.textContent = "Could not check: " + e.message; });
    }, 250);
  });
  form.querySelector("#check").addEventListener("click", function (ev) {
    ev.preventDefault();
    dry.textContent = "Counting…";
    post("/api/v1/segments/dry-run").then(function (v) {
      show(v);
      sample.textContent = "";
      if (!v.valid || !v.dry_run) { dry.textContent = ""; return; }
      const d = v.dry_run;
      dry.innerHTML = "";
      dry.appendChild(document.createTextNode("Now "));
      const b = document.createElement("strong");
      b.id = "size"; b.dataset.size = String(d.size); b.textContent = nf.format(d.size);
      dry.appendChild(b);
      dry.appendChild(document.createTextNode(" of " + nf.format(d.profiles) + " customers (" + (100 * d.share).toFixed(1) + "%)."));
      (v.members || []).forEach(function (m) {
        const li = document.createElement("li"), a = document.createElement("a");
        a.href = "/customers/" + encodeURIComponent(m.id); a.textContent = m.name || m.id;
        li.appendChild(a); li.appendChild(document.createTextNode(" " + (m.email || "")));
        sample.appendChild(li);
      });
    }).catch(function (e) { dry.textContent = "Could not count: " + e.message; });
  });
})();
