// Draws each dashboard table as a chart with the vendored ECharts. The data is the table
// itself, embedded in the page as JSON next to it; without this script the tables remain.
(function () {
  "use strict";
  if (typeof echarts === "undefined") {
    return;
  }
  function numericColumns(table) {
    var cols = [];
    for (var j = 1; j < table.headers.length; j++) {
      var any = table.rows.some(function (r) { return r[j] && r[j].value !== null; });
      if (any) { cols.push(j); }
    }
    return cols;
  }
  function option(table) {
    var names = table.rows.map(function (r) { return r[0].text; });
    var cols = numericColumns(table);
    if (table.chart === "pie") {
      var j = cols[0];
      return {
        animation: false,
        tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
        legend: { bottom: 0, type: "scroll" },
        series: [{
          type: "pie",
          radius: ["35%", "65%"],
          data: table.rows.map(function (r) { return { name: r[0].text, value: r[j].value }; }),
        }],
      };
    }
    var type = table.chart === "line" ? "line" : "bar";
    return {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 48, right: 24, top: 40, bottom: 72 },
      xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: type === "bar" ? 1 : 0 },
      series: cols.map(function (j) {
        return {
          name: table.headers[j],
          type: type,
          stack: type === "bar" && cols.length > 2 && j > 1 ? "compliance" : undefined,
          data: table.rows.map(function (r) { return r[j].value; }),
          connectNulls: true,
        };
      }),
    };
  }
  function linkOf(table, params) {
    var row = table.rows[params.dataIndex];
    if (!row) { return null; }
    if (table.chart === "pie") { return row[1] && row[1].link; }
    var cols = numericColumns(table);
    var j = cols[params.seriesIndex];
    return (row[j] && row[j].link) || row[0].link;
  }
  document.querySelectorAll("script.chart-data").forEach(function (node) {
    var target = document.getElementById(node.getAttribute("data-chart"));
    if (!target) { return; }
    var table;
    try { table = JSON.parse(node.textContent); } catch (e) { return; }
    if (!table.rows.length) { return; }
    target.hidden = false;
    var chart = echarts.init(target, null, { renderer: "canvas" });
    chart.setOption(option(table));
    chart.on("click", function (params) {
      var link = linkOf(table, params);
      if (link) { window.location.href = link; }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    target.setAttribute("data-rendered", "1");
  });
})();
