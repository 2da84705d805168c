// Draws the Models page's two checks with uPlot: mean holdout repeat
// purchases by calibration repeat purchases, and cumulative repeat
// purchases week by week, actual against each model's expectation.
(function () {
  "use strict";
  const palette = ["#1d2330", "#2458d6", "#c62828", "#2e7d32", "#b26a00", "#6a1b9a"];
  function width(el) { return Math.max(280, el.clientWidth - 16); }
  function plot(el, opts, data) {
    const chart = new uPlot(Object.assign({ width: width(el), height: 260 }, opts), data, el);
    window.addEventListener("resize", function () { chart.setSize({ width: width(el), height: 260 }); });
    el.dataset.drawn = "true";
  }
  function models(rows, key) {
    const out = {};
    rows.forEach(function (r) { Object.keys(r[key] || {}).forEach(function (m) { out[m] = true; }); });
    return Object.keys(out).sort();
  }
  function frequency(el, rows) {
    if (!rows || rows.length === 0) { el.textContent = "No holdout to check against."; el.dataset.drawn = "empty"; return; }
    const ms = models(rows, "expected_mean");
    const xs = rows.map(function (_, i) { return i; });
    const data = [xs, rows.map(function (r) { return r.actual_mean; })].concat(ms.map(function (m) { return rows.map(function (r) { return r.expected_mean[m]; }); }));
    const series = [{ label: "calibration repeat purchases", value: function (_, i) { return i == null ? "" : rows[i].x; } },
      { label: "actual", stroke: palette[0], width: 2 }].concat(ms.map(function (m, i) { return { label: m + " expected", stroke: palette[(i + 1) % palette.length], width: 2, dash: [6, 4] }; }));
    plot(el, { series: series, axes: [{ label: "repeat purchases in calibration", values: function (_, ticks) { return ticks.map(function (t) { return rows[t] ? rows[t].x : ""; }); }, splits: function () { return xs; } },
      { label: "mean repeat purchases in holdout" }], scales: { x: { time: false } } }, data);
  }
  function tracking(el, rows) {
    if (!rows || rows.length === 0) { el.textContent = "No weeks to track."; el.dataset.drawn = "empty"; return; }
    const ms = models(rows, "cumulative_expected");
    const xs = rows.map(function (r) { return Date.parse(r.end) / 1000; });
    const data = [xs, rows.map(function (r) { return r.cumulative_actual; })].concat(ms.map(function (m) { return rows.map(function (r) { return r.cumulative_expected[m]; }); }));
    const series = [{}, { label: "actual", stroke: palette[0], width: 2 }].concat(ms.map(function (m, i) { return { label: m + " expected", stroke: palette[(i + 1) % palette.length], width: 2, dash: [6, 4] }; }));
    const start = rows.findIndex(function (r) { return r.holdout; });
    const hooks = start < 0 ? {} : { draw: [function (u) {
      const x = u.valToPos(xs[start], "x", true);
      u.ctx.save(); u.ctx.strokeStyle = "#5d6675"; u.ctx.setLineDash([2, 3]); u.ctx.beginPath();
      u.ctx.moveTo(x, u.bbox.top); u.ctx.lineTo(x, u.bbox.top + u.bbox.height); u.ctx.stroke(); u.ctx.restore();
    }] };
    plot(el, { series: series, hooks: hooks, axes: [{}, { label: "cumulative repeat purchases" }] }, data);
  }
  window.addEventListener("load", function () {
    const src = document.getElementById("models-data");
    if (!src) { return; }
    let d = {};
    try { d = JSON.parse(src.textContent); } catch (e) { return; }
    const f = document.getElementById("chart-frequency");
    if (f) { frequency(f, d.by_frequency); }
    const t = document.getElementById("chart-tracking");
    if (t) { tracking(t, d.tracking); }
  });
})();
