// Formats money, numbers and dates in the viewer's locale, asks before
// applying a plan, closes the header's More menu on a click elsewhere, and
// draws the segment-size charts with uPlot.
(function () {
  "use strict";
  const locale = navigator.language || "en";
  document.querySelectorAll("[data-money]").forEach(function (el) {
    try {
      el.textContent = new Intl.NumberFormat(locale, { style: "currency", currency: el.dataset.currency }).format(Number(el.dataset.money));
    } catch (e) { /* an unknown currency keeps the server's text */ }
  });
  const nf = new Intl.NumberFormat(locale);
  document.querySelectorAll("[data-num]").forEach(function (el) { el.textContent = nf.format(Number(el.dataset.num)); });
  const df = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    const d = new Date(el.getAttribute("datetime"));
    if (!isNaN(d)) { el.title = el.textContent; el.textContent = df.format(d); }
  });
  // The header's More menu opens and closes without script; this only
  // closes it on a click elsewhere or Escape, as a menu does.
  const more = document.querySelector("header.top details.more");
  if (more) {
    document.addEventListener("click", function (ev) { if (more.open && !more.contains(ev.target)) { more.open = false; } });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && more.open) { more.open = false; more.querySelector("summary").focus(); }
    });
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (ev) { if (!window.confirm(f.dataset.confirm)) { ev.preventDefault(); } });
  });

  const palette = ["#2458d6", "#c62828", "#2e7d32", "#b26a00", "#6a1b9a", "#00838f", "#ad1457", "#4e342e", "#546e7a", "#9e9d24"];
  function draw(el) {
    fetch(el.dataset.history, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (h) {
      const names = Object.keys(h.segments).sort();
      if (h.days.length === 0 || names.length === 0) { el.textContent = "No membership history yet."; el.dataset.drawn = "empty"; return; }
      const xs = h.days.map(function (d) { return Date.parse(d) / 1000; });
      const data = [xs].concat(names.map(function (n) { return h.segments[n]; }));
      const series = [{}].concat(names.map(function (n, i) { return { label: n, stroke: palette[i % palette.length], width: 2, points: { show: h.days.length < 40 } }; }));
      const width = function () { return Math.max(280, el.clientWidth - 16); };
      const step = { day: 86400, hour: 3600, minute: 60 }[h.bucket] || 86400;
      const x = { time: true };
      // A single point gets a few periods of room instead of an axis of years.
      if (xs.length === 1) { x.range = [xs[0] - 4 * step, xs[0] + step]; }
      const chart = new uPlot({ width: width(), height: 260, series: series, legend: { live: false }, scales: { x: x } }, data, el);
      window.addEventListener("resize", function () { chart.setSize({ width: width(), height: 260 }); });
      el.dataset.drawn = "true";
    }).catch(function (e) { el.textContent = "Could not load the history: " + e.message; el.dataset.drawn = "error"; });
  }
  window.addEventListener("load", function () {
    document.querySelectorAll("[data-history]").forEach(draw);
    document.body.dataset.loaded = "true";
  });
})();
