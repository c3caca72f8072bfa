// Exam page behaviour: the live countdown, save sequencing and retries, and keyboard shortcuts.
// Everything else works without JavaScript; no inline scripts, so a strict CSP holds.
(function () {
  "use strict";

  var WARNINGS = [30 * 60, 5 * 60];
  var deadline = null;
  var warned = {};
  var seq = 0;
  var retryTimer = null;
  var retryDelay = 1000;

  function format(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)), ss = String(s).padStart(2, "0");
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  function syncClock() {
    var panel = document.getElementById("exam-panel");
    if (!panel || panel.dataset.remaining === "" || panel.dataset.remaining === undefined) { return; }
    // The server sends seconds left; the browser only counts down from its own clock, so skew cannot matter.
    deadline = Date.now() + Number(panel.dataset.remaining) * 1000;
  }

  function warn(text) {
    var box = document.getElementById("timer-warning");
    if (!box) { return; }
    box.textContent = text;
    box.hidden = false;
  }

  function tick() {
    var timer = document.getElementById("timer");
    if (!timer || deadline === null) { return; }
    var left = (deadline - Date.now()) / 1000;
    timer.textContent = format(left);
    WARNINGS.forEach(function (limit) {
      if (left <= limit && left > 0 && !warned[limit]) {
        warned[limit] = true;
        warn(Math.round(limit / 60) + " minutes left. Unanswered questions count as wrong.");
        document.getElementById("timer-box").classList.add(limit <= 300 ? "critical" : "low");
      }
    });
    if (left <= 0) {
      var panel = document.getElementById("exam-panel");
      warn("Time is up. Your saved answers are being submitted.");
      deadline = null;
      // Give an in-flight save a moment, then let the server finalise the attempt and show the results.
      window.setTimeout(function () { openResults(panel.dataset.openUrl); }, 1500);
    }
  }

  // Opening the attempt after time is up finalises it and redirects to the results. Fetched first, so an offline
  // browser keeps this page (not its own error page) and retries when back online; the sweeper submits the
  // saved answers meanwhile.
  function openResults(url) {
    window.fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (response.status >= 500) { throw new Error("server error " + response.status); }
      window.location.assign(response.url);
    }).catch(function () {
      warn("Time is up, and the connection is down. The answers saved before it dropped are submitted for you; " +
        "your results open here as soon as it is back.");
      var retry = function () {
        window.removeEventListener("online", retry);
        window.clearTimeout(timer);
        openResults(url);
      };
      var timer = window.setTimeout(retry, 10000);
      window.addEventListener("online", retry);
    });
  }

  function currentSeq() {
    var form = document.getElementById("answer-form");
    var stored = form ? Number(form.dataset.seq || 0) : 0;
    seq = Math.max(seq, stored) + 1;
    return seq;
  }

  function status(text, isError) {
    var box = document.getElementById("save-status");
    if (!box) { return; }
    box.textContent = text;
    box.className = "save-status" + (isError ? " error" : "");
    box.setAttribute("role", isError ? "alert" : "status");
  }

  function retrySave() {
    var fields = document.getElementById("answer-fields");
    if (!fields || retryTimer) { return; }
    status("Not saved: the connection dropped. Retrying in " + Math.round(retryDelay / 1000) + " s…", true);
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      retryDelay = Math.min(retryDelay * 2, 30000);
      window.htmx.trigger(fields, "change");
    }, retryDelay);
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.parameters.go === "autosave" || event.detail.parameters.get && event.detail.parameters.get("go") === "autosave") {
      var value = currentSeq();
      if (event.detail.parameters.set) { event.detail.parameters.set("seq", value); } else { event.detail.parameters.seq = value; }
      status("Saving…", false);
    }
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (event.detail.elt && event.detail.elt.id === "answer-fields") { retrySave(); }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var code = event.detail.xhr.status;
    if (event.detail.elt && event.detail.elt.id === "answer-fields" && (code >= 500 || code === 0)) { retrySave(); }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful && event.detail.elt && event.detail.elt.id === "answer-fields") { retryDelay = 1000; }
  });
  document.addEventListener("htmx:afterSwap", function () {
    var saved = document.querySelector("#save-status[data-seq]");
    var form = document.getElementById("answer-form");
    if (saved && form) { form.dataset.seq = saved.dataset.seq; }
    syncClock();
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "select" || tag === "textarea" || (tag === "input" && event.target.type === "text")) { return; }
    var key = event.key.toLowerCase();
    var button = document.querySelector('[data-shortcut="' + key + '"]:not([disabled])');
    if (button) { event.preventDefault(); button.click(); return; }
    if (/^[1-6]$/.test(key)) {
      var option = document.querySelector('input[data-key="' + key + '"]:not([disabled])');
      if (option) {
        event.preventDefault();
        option.checked = option.type === "checkbox" ? !option.checked : true;
        option.focus();
        option.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    syncClock();
    tick();
    window.setInterval(tick, 1000);
  });
})();
