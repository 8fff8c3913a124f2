// Clipsheet source administration. The pages work without this script
// (plain forms; deleting asks on a page of its own); it only hides the
// page-only fields while the type is "feed".
(function () {
  "use strict";

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
