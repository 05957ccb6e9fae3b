// The admin dashboard's charts, drawn by chart.js (served from /static/vendor) from the page's
// <script type="application/json" id="stats-data"> block. Without script the same figures are in the
// table under the charts.
(function () {
  'use strict';
  function draw() {
    var source = document.getElementById('stats-data');
    if (!source || typeof window.Chart !== 'function') return;
    var data;
    try { data = JSON.parse(source.textContent); } catch (e) { return; }

    var text = getComputedStyle(document.body).color || '#333';
    var grid = 'rgba(136, 136, 136, 0.25)';
    var Chart = window.Chart;
    Chart.defaults.color = text;
    Chart.defaults.borderColor = grid;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;

    var palette = ['#2563eb', '#15803d', '#b45309', '#7c3aed', '#0e7490', '#be185d', '#4b5563'];
    function options(stacked) {
      return {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: 'index', intersect: false },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 12, sort: function (a, b) { return a.datasetIndex - b.datasetIndex; } } } },
        scales: {
          x: { stacked: stacked, ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 }, grid: { display: false } },
          y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
      };
    }

    var logins = document.getElementById('chart-logins');
    if (logins) {
      new Chart(logins, {
        type: 'line',
        data: {
          labels: data.labels,
          datasets: [
            { label: 'Sign-ins', data: data.logins, borderColor: '#2563eb', backgroundColor: 'rgba(37, 99, 235, 0.15)', fill: true, tension: 0.25, pointRadius: 2, order: 1 },
            // Drawn over the sign-ins (lower order), so equal counts do not hide it.
            { label: 'Failed sign-ins', data: data.failedLogins, borderColor: '#b91c1c', backgroundColor: '#b91c1c', borderDash: [5, 4], tension: 0.25, pointRadius: 3, pointStyle: 'rectRot', order: 0 },
          ],
        },
        options: options(false),
      });
    }

    var tokens = document.getElementById('chart-tokens');
    if (tokens) {
      var datasets = data.issued.map(function (series, i) {
        var color = palette[i % palette.length];
        return { label: series.label, data: series.counts, backgroundColor: color, borderColor: color, borderWidth: 0 };
      });
      if (datasets.length === 0) datasets = [{ label: 'No tokens issued', data: data.labels.map(function () { return 0; }), backgroundColor: '#9ca3af' }];
      new Chart(tokens, { type: 'bar', data: { labels: data.labels, datasets: datasets }, options: options(true) });
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
  else draw();
})();
