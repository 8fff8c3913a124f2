// Clipsheet sharing: copy a story's link, or a whole edition as plain
// text for a radio log, a chat or an e-mail. Without this script the
// buttons stay hidden and the edition's text is a plain link.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-copy], button[data-copy-from]");
  if (!buttons.length) { return; }
  var status = document.getElementById("share-status");

  function say(msg) { if (status) { status.textContent = msg; } }

  function copy(text, what) {
    if (!navigator.clipboard || !navigator.clipboard.writeText) {
      say("This browser does not let the page copy: select the text and copy it instead.");
      return;
    }
    navigator.clipboard.writeText(text).then(function () {
      say(what + " copied.");
    }, function () {
      say("Could not copy: select the text and copy it instead.");
    });
  }

  Array.prototype.forEach.call(buttons, function (b) { b.hidden = false; });
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("button[data-copy], button[data-copy-from]");
    if (!b) { return; }
    if (b.hasAttribute("data-copy")) {
      copy(b.getAttribute("data-copy"), "Link");
      return;
    }
    fetch(b.getAttribute("data-copy-from"), { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.text();
    }).then(function (text) {
      copy(text, "Edition text");
    }, function () {
      say("Could not load the edition's text; open it with the link beside the button.");
    });
  });
})();
