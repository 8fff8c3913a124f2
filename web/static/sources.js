// Clipsheet source administration. The pages work without this script
// (plain forms); it only adds a confirmation before deleting and hides the
// page-only fields while the type is "feed".
(function () {
  "use strict";

  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter;
    var msg = btn && btn.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });

  var type = document.getElementById("source-type");
  var pageOnly = document.querySelector(".page-only");
  if (type && pageOnly) {
    var sync = function () {
      var page = type.value === "page";
      pageOnly.hidden = !page;
      // A feed with a stale links value would fail validation unseen.
      pageOnly.disabled = !page;
    };
    type.addEventListener("change", sync);
    sync();
  }
})();
