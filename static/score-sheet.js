// The score sheet's running total: the sum of the scores typed so far, kept current while the
// expert types. Without this script the page works the same; the server shows the total after
// each save.
document.addEventListener('DOMContentLoaded', function () {
  var out = document.getElementById('running-total');
  var inputs = document.querySelectorAll('input[data-score-input]');
  if (!out || inputs.length === 0) { return; }
  function update() {
    var sum = 0;
    inputs.forEach(function (i) {
      var v = parseFloat(i.value);
      if (isFinite(v)) { sum += v; }
    });
    // Two decimals at most, trailing zeros dropped: as the server writes it.
    out.textContent = String(Math.round(sum * 100) / 100);
  }
  inputs.forEach(function (i) { i.addEventListener('input', update); });
  update();
});
