// Clipsheet next-edition preview: arrange stories by keyboard and by
// drag. Every action is a plain form that works without this script; the
// script only gives the forms keys (j/k select, Alt+Up/Down or Shift+K/J
// move, p pins the lead) and lets a story be dragged before another.
(function () {
  "use strict";
  var page = document.querySelector(".next-edition");
  if (!page) { return; }
  var csrf = page.getAttribute("data-csrf");

  function rows() { return Array.prototype.slice.call(page.querySelectorAll(".next-item")); }
  function current() { return page.querySelector(".next-item.current"); }

  function select(el) {
    var cur = current();
    if (cur && cur !== el) { cur.classList.remove("current"); }
    if (!el) { return; }
    el.classList.add("current");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
  }

  function step(delta) {
    var list = rows();
    if (!list.length) { return; }
    var i = list.indexOf(current());
    select(list[i < 0 ? 0 : Math.min(list.length - 1, Math.max(0, i + delta))]);
  }

  // press submits the current story's form for an action; the answer is
  // the preview again, with this story in view (#n-id) and selected.
  function press(action) {
    var cur = current();
    if (!cur) { return; }
    var b = cur.querySelector("button[data-action=" + action + "]");
    if (b) { b.click(); }
  }

  page.addEventListener("click", function (ev) {
    var row = ev.target.closest && ev.target.closest(".next-item");
    if (row) { row.classList.add("current"); rows().forEach(function (r) { if (r !== row) { r.classList.remove("current"); } }); }
  });

  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.ctrlKey || ev.metaKey) { return; }
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) { return; }
    if (ev.altKey && ev.key === "ArrowUp") { press("up"); }
    else if (ev.altKey && ev.key === "ArrowDown") { press("down"); }
    else if (ev.altKey) { return; }
    else if (ev.key === "j") { step(1); }
    else if (ev.key === "k") { step(-1); }
    else if (ev.key === "J") { press("down"); }
    else if (ev.key === "K") { press("up"); }
    else if (ev.key === "p") { press("pin"); }
    else { return; }
    ev.preventDefault();
  });

  // Drag a story onto another to put it before that one (and into its
  // section).
  var dragged = null;
  rows().forEach(function (row) {
    row.setAttribute("draggable", "true");
    row.addEventListener("dragstart", function (ev) {
      dragged = row;
      row.classList.add("dragging");
      ev.dataTransfer.effectAllowed = "move";
      ev.dataTransfer.setData("text/plain", row.getAttribute("data-id"));
    });
    row.addEventListener("dragend", function () { row.classList.remove("dragging"); dragged = null; });
    row.addEventListener("dragover", function (ev) {
      if (dragged && dragged !== row) { ev.preventDefault(); ev.dataTransfer.dropEffect = "move"; }
    });
    row.addEventListener("drop", function (ev) {
      ev.preventDefault();
      if (!dragged || dragged === row) { return; }
      var id = dragged.getAttribute("data-id");
      var body = new URLSearchParams({ item: id, before: row.getAttribute("data-id") });
      fetch("/editions/next/place", {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
      }).then(function () {
        window.location.hash = "n-" + id;
        window.location.reload();
      });
    });
  });

  var fromHash = window.location.hash && document.getElementById(window.location.hash.slice(1));
  if (fromHash && fromHash.classList.contains("next-item")) { select(fromHash); }
  else if (rows()[0]) { rows()[0].classList.add("current"); }
})();
