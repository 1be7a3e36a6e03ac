// Live updates: one EventSource per page (it reconnects by itself); each change refreshes the page's live parts
// (elements with data-refresh) through htmx. Quick replies fill the reply box. No framework, no build step.
(function () {
  "use strict";
  function refresh(el) {
    if (!window.htmx || !el.dataset.refresh) return;
    // Never replace what the operator is typing: the forms sit outside the refreshed history when possible.
    var typing = el.contains(document.activeElement) && /TEXTAREA|INPUT/.test(document.activeElement.tagName);
    if (typing) { el.dataset.stale = "1"; return; }
    window.htmx.ajax("GET", el.dataset.refresh, { target: el, swap: "innerHTML" });
  }
  function retitle() {
    var q = document.getElementById("queue");
    var count = q && q.querySelector("[data-count]");
    if (count) document.title = "(" + count.dataset.count + ") " + q.dataset.titlePrefix;
  }
  function onChange(data) {
    document.querySelectorAll("[data-refresh]").forEach(function (el) {
      if (el.dataset.ref && data.ref && el.dataset.ref !== data.ref) return;
      refresh(el);
    });
  }
  function connect() {
    var url = document.body.dataset.live;
    if (!url || !window.EventSource) return;
    var status = document.getElementById("live-status");
    var source = new EventSource(url);
    source.addEventListener("hello", function () {
      if (status) { status.textContent = status.dataset.on; status.classList.add("on"); }
      document.body.dataset.liveReady = "1";
      // On every (re)connection: what changed between rendering the page (or losing the stream) and subscribing
      // would be missed otherwise.
      onChange({});
    });
    source.addEventListener("change", function (e) {
      try { onChange(JSON.parse(e.data)); } catch (err) { /* a malformed event changes nothing */ }
    });
    source.onerror = function () {
      if (status) { status.textContent = status.dataset.off; status.classList.remove("on"); }
      document.body.dataset.liveReady = "";
    };
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest(".quick-reply");
    if (!b) return;
    var box = document.getElementById("reply-text");
    if (box) { box.value = b.dataset.text; box.focus(); }
  });
  document.addEventListener("focusout", function (e) {
    var el = e.target.closest && e.target.closest("[data-refresh]");
    if (el && el.dataset.stale) { delete el.dataset.stale; setTimeout(function () { refresh(el); }, 0); }
  });
  document.addEventListener("htmx:afterSwap", retitle);
  document.addEventListener("DOMContentLoaded", function () { retitle(); connect(); });
})();
