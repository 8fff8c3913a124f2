// Clipsheet desk: keyboard triage on the queue. Everything also works
// without this script (plain forms), it only makes the common path fast.
(function () {
  "use strict";
  var desk = document.querySelector(".desk");
  if (!desk) { return; }
  var csrf = desk.getAttribute("data-csrf");
  // With the script on, unselected items show a two-line excerpt and the
  // selected one opens in full (see .desk.js in style.css).
  desk.classList.add("js");

  function items() { return Array.prototype.slice.call(document.querySelectorAll(".items > .item")); }
  function current() { return document.querySelector(".item.current") || null; }

  // select marks el as the current item; unless keepFocus is set it also
  // moves the keyboard focus to it and scrolls it into view.
  function select(el, keepFocus) {
    var cur = current();
    if (cur && cur !== el) { cur.classList.remove("current"); }
    if (!el) { return; }
    el.classList.add("current");
    if (keepFocus) { return; }
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
  }

  function move(delta) {
    var list = items();
    if (!list.length) { return; }
    var i = list.indexOf(current());
    var next = i < 0 ? 0 : Math.min(list.length - 1, Math.max(0, i + delta));
    select(list[next]);
  }

  // Each key's decision, and the tab its item moves to. A key whose item
  // is on that tab already does nothing but say so.
  var tab = desk.getAttribute("data-status");
  var actions = {
    approve: { status: "approved", done: "Approved", already: "Already approved" },
    reject: { status: "rejected", done: "Rejected", already: "Already rejected" },
    requeue: { status: "queued", done: "Moved back to queue", already: "Already in the queue" }
  };

  function updateCounts(counts) {
    if (!counts) { return; }
    Array.prototype.forEach.call(desk.querySelectorAll(".tabs .count"), function (el) {
      var n = counts[el.getAttribute("data-status")];
      if (typeof n === "number") { el.textContent = String(n); }
    });
  }

  // setVersion records the version of the item as stored now, in the item
  // and in its forms, so the next decision is based on it.
  function setVersion(el, version) {
    el.setAttribute("data-version", String(version));
    Array.prototype.forEach.call(el.querySelectorAll("input[name=version]"), function (input) {
      input.value = String(version);
    });
  }

  // leave takes a decided item off this tab and selects its neighbour;
  // after the last one the page shows the server's empty state.
  function leave(el) {
    var list = items();
    var next = list[list.indexOf(el) + 1] || list[list.indexOf(el) - 1];
    el.remove();
    if (next) { select(next); return; }
    if (desk.querySelector(".pager")) {
      // Older items wait on the next page: load them.
      window.location.reload();
      return;
    }
    var empty = document.getElementById("queue-empty");
    if (empty) {
      empty.hidden = false;
      empty.focus({ preventScroll: true });
    }
  }

  function decide(el, action) {
    if (!el) { return; }
    var act = actions[action];
    if (act.status === tab) {
      announce(act.already);
      return;
    }
    var id = el.getAttribute("data-id");
    var old = el.querySelector(".stale-notice");
    if (old) { old.remove(); }
    el.classList.add("pending");
    fetch("/items/" + encodeURIComponent(id) + "/" + action, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
      // The version this page shows: the server refuses the decision when
      // someone changed the item since.
      body: new URLSearchParams({ version: el.getAttribute("data-version") || "" }),
      credentials: "same-origin"
    }).then(function (res) {
      if (res.status === 401) { throw new Error("signed out; reload the page to sign in again"); }
      if (res.status === 403) { throw new Error("not allowed (reload the page if your session changed)"); }
      if (res.status === 412) {
        return res.json().then(function (body) { stale(el, action, body); });
      }
      if (!res.ok) { throw new Error("HTTP " + res.status); }
      return res.json().then(function (body) {
        updateCounts(body.counts);
        leave(el);
        announce(act.done);
      });
    }).catch(function (err) {
      el.classList.remove("pending");
      announce("Could not save: " + err.message, true);
    });
  }

  // stale shows, in the item, that someone else changed it since the page
  // was made ("Already rejected by demo 2 min ago — approve anyway?") with
  // a button to decide anyway on the version stored now.
  function stale(el, action, body) {
    el.classList.remove("pending");
    updateCounts(body.counts);
    var current = body.current || {};
    if (typeof current.version === "number") { setVersion(el, current.version); }
    if (!body.button) {
      // It already stands as this curator wanted.
      if (current.status !== tab) { leave(el); }
      announce(body.notice);
      return;
    }
    var box = document.createElement("div");
    box.className = "stale-notice";
    box.setAttribute("role", "alert");
    var text = document.createElement("p");
    text.textContent = body.notice;
    var again = document.createElement("button");
    again.type = "button";
    again.textContent = body.button;
    again.addEventListener("click", function () { decide(el, action); });
    var keep = document.createElement("button");
    keep.type = "button";
    keep.textContent = "Leave it";
    keep.addEventListener("click", function () {
      box.remove();
      if (current.status !== tab) { leave(el); } else { select(el); }
    });
    box.appendChild(text);
    box.appendChild(again);
    box.appendChild(keep);
    el.insertBefore(box, el.firstChild);
    select(el, true);
    again.focus();
  }

  // approveVersion approves the n-th other version of the current card's
  // story in its place; the server files the rest as its duplicates, so
  // the whole card leaves the queue.
  function approveVersion(el, n) {
    var v = el.querySelectorAll(".versions li")[n - 1];
    if (!v || tab !== "queued") { return; }
    if (!v.querySelector("form")) { announce("That version is not in the queue"); return; }
    el.classList.add("pending");
    fetch("/items/" + encodeURIComponent(v.getAttribute("data-id")) + "/approve", {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: new URLSearchParams({ version: v.getAttribute("data-version") || "" }),
      credentials: "same-origin"
    }).then(function (res) {
      if (!res.ok) { throw new Error(res.status === 412 ? "that version changed since; reload the page" : "HTTP " + res.status); }
      return res.json().then(function (body) {
        updateCounts(body.counts);
        leave(el);
        announce("Approved that version; the others are filed as duplicates");
      });
    }).catch(function (err) {
      el.classList.remove("pending");
      announce("Could not save: " + err.message, true);
    });
  }

  var hideTimer = null;
  // announce shows a short status line; confirmations fade after a few
  // seconds, failures stay until the next announcement.
  function announce(text, failed) {
    var live = document.getElementById("live");
    if (!live) {
      live = document.createElement("p");
      live.id = "live";
      live.className = "toast";
      live.setAttribute("role", "status");
      document.body.appendChild(live);
    }
    live.textContent = text;
    live.classList.toggle("bad", !!failed);
    live.hidden = false;
    clearTimeout(hideTimer);
    if (!failed) {
      hideTimer = setTimeout(function () { live.hidden = true; }, 4000);
    }
  }

  items().forEach(function (el) {
    el.addEventListener("click", function (ev) {
      // A click on a field, button or link keeps its focus there.
      var control = ev.target.closest("a, button, input, textarea, select, summary, label");
      select(el, !!control || el === current());
    });
  });

  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) {
      if (ev.key === "Escape") {
        var d = t.closest("details");
        if (d) { d.open = false; select(t.closest(".item")); }
      }
      return;
    }
    var cur = current();
    switch (ev.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": decide(cur, "approve"); break;
      case "r": case "x": decide(cur, "reject"); break;
      case "u": decide(cur, "requeue"); break;
      case "e":
        if (cur) {
          var det = cur.querySelector("details.edit");
          det.open = true;
          det.querySelector("input[name=title]").focus();
        }
        break;
      case "1": case "2": case "3": case "4": case "5": case "6": case "7": case "8": case "9":
        if (cur) { approveVersion(cur, Number(ev.key)); }
        break;
      case "/":
        var q = document.querySelector('input[name="q"]');
        if (q) { q.focus(); q.select(); }
        break;
      case "?":
        var help = document.getElementById("keys-help");
        if (help && !help.open) { help.showModal(); }
        break;
      case "o":
        if (cur) {
          var a = cur.querySelector("h2 a");
          if (a && a.getAttribute("href") !== "#") { window.open(a.href, "_blank", "noopener,noreferrer"); }
        }
        break;
      default: return;
    }
    ev.preventDefault();
  });

  var first = items()[0];
  if (first) { select(first); }
})();
