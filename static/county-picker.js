// The cluster form: the county chosen as 牵头县 is not offered again under 其他县（市、区）.
// The server renders the saved choice the same way and refuses a repeat; this keeps the list
// in step when the lead county is changed on the page.
document.addEventListener('DOMContentLoaded', function () {
  var lead = document.getElementById('lead_county_code');
  var box = document.getElementById('other_county_codes');
  if (!lead || !box) { return; }
  function sync() {
    box.querySelectorAll('label[data-county]').forEach(function (label) {
      var input = label.querySelector('input');
      var isLead = label.getAttribute('data-county') === lead.value;
      label.hidden = isLead;
      input.disabled = isLead;
      if (isLead) { input.checked = false; }
    });
  }
  lead.addEventListener('change', sync);
  sync();
});

// The organisation form: only the chosen city's counties are offered (the server refuses a
// county of another city all the same).
document.addEventListener('DOMContentLoaded', function () {
  var city = document.getElementById('city_code');
  var county = document.getElementById('county_code');
  if (!city || !county || !county.querySelector('optgroup')) { return; }
  function sync() {
    var chosen = city.selectedIndex > 0 ? city.options[city.selectedIndex].text : '';
    county.querySelectorAll('optgroup').forEach(function (group) {
      var other = chosen !== '' && group.label !== chosen;
      group.hidden = other;
      group.disabled = other;
      if (other && group.contains(county.options[county.selectedIndex])) { county.selectedIndex = 0; }
    });
  }
  city.addEventListener('change', sync);
  sync();
});
