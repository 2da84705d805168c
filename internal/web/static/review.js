// Draws the segment review's chart with uPlot: each segment's size at the
// end of each day of the period, from the JSON in #review-data. The web
// app's review page and the printable review (which carries this script
// and uPlot inside it) run the same code, so they show the same chart.
(function () {
  "use strict";
  const palette = ["#2458d6", "#c62828", "#2e7d32", "#b26a00", "#6a1b9a", "#00838f", "#ad1457", "#4e342e", "#546e7a", "#9e9d24"];
  function draw() {
    const el = document.getElementById("review-sizes");
    const src = document.getElementById("review-data");
    if (!el || !src) { return; }
    if (typeof uPlot === "undefined") { el.textContent = "The chart needs uPlot, which did not load."; el.dataset.drawn = "error"; return; }
    const d = JSON.parse(src.textContent);
    const names = Object.keys(d.segments || {}).sort();
    if (!d.days || d.days.length === 0 || names.length === 0) {
      el.textContent = "No membership history in this period.";
      el.dataset.drawn = "empty";
      return;
    }
    const xs = d.days.map(function (t) { return Date.parse(t) / 1000; });
    const data = [xs].concat(names.map(function (n) { return d.segments[n]; }));
    const series = [{}].concat(names.map(function (n, i) {
      return { label: n, stroke: palette[i % palette.length], width: 2, points: { show: xs.length < 40 } };
    }));
    const width = function () { return Math.max(280, (el.clientWidth || 860) - 16); };
    el.textContent = "";
    const chart = new uPlot({ width: width(), height: 280, series: series, legend: { live: false }, scales: { x: { time: true } } }, data, el);
    window.addEventListener("resize", function () { chart.setSize({ width: width(), height: 280 }); });
    el.dataset.drawn = "true";
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
