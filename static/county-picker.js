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
