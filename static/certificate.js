document.addEventListener('DOMContentLoaded', function () {
  var b = document.getElementById('print');
  if (b) { b.hidden = false; b.addEventListener('click', function () { window.print(); }); }
});
