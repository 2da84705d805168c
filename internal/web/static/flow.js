// Draws a migration as a flow (Sankey) chart with Apache ECharts: the
// left column is where people were on the first date, the right where
// they were on the second; clicking a band or a column opens the people.
(function () {
  "use strict";
  function peopleURL(el, m, source, target) {
    const q = new URLSearchParams({ definition: m.definition, from: el.dataset.from, to: el.dataset.to, source: source, target: target });
    return "/migrations/people?" + q.toString();
  }
  function draw(el) {
    fetch(el.dataset.migration, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (m) {
      const links = [];
      const used = {};
      m.matrix.forEach(function (row, i) {
        row.forEach(function (n, j) {
          if (n > 0) {
            links.push({ source: "from " + m.segments[i], target: "to " + m.segments[j], value: n, from: m.segments[i], to: m.segments[j] });
            used["from " + m.segments[i]] = true;
            used["to " + m.segments[j]] = true;
          }
        });
      });
      if (links.length === 0) { el.textContent = "Nobody was in a segment of " + m.definition + " on either date."; el.dataset.drawn = "empty"; return; }
      // Labels sit inside the chart: the left column's to its right,
      // the right column's to its left.
      const nodes = Object.keys(used).map(function (n) { return n.indexOf("to ") === 0 ? { name: n, label: { position: "left" } } : { name: n }; });
      const chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption({
        animation: false,
        tooltip: { trigger: "item", renderMode: "richText" },
        series: [{
          type: "sankey", data: nodes, links: links, nodeGap: 10, nodeWidth: 12, left: 8, right: 8, top: 8, bottom: 8,
          emphasis: { focus: "adjacency" }, lineStyle: { color: "gradient", opacity: 0.45 },
          label: { fontSize: 11, formatter: function (p) { return p.name.replace(/^(from|to) /, ""); } }
        }]
      });
      chart.on("click", function (p) {
        if (p.dataType === "edge") { window.location.href = peopleURL(el, m, p.data.from, p.data.to); return; }
        if (p.dataType === "node") {
          const from = p.name.indexOf("from ") === 0;
          const seg = p.name.replace(/^(from|to) /, "");
          window.location.href = from ? peopleURL(el, m, seg, "") : peopleURL(el, m, "", seg);
        }
      });
      window.addEventListener("resize", function () { chart.resize(); });
      el.dataset.drawn = "true";
      el.dataset.links = String(links.length);
    }).catch(function (e) { el.textContent = "Could not draw the flows: " + e.message; el.dataset.drawn = "error"; });
  }
  window.addEventListener("load", function () { document.querySelectorAll("[data-migration]").forEach(draw); });
})();
