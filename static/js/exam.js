// Exam page behaviour: the live countdown, save sequencing and retries, the question grid's keys and counts, and
// keyboard shortcuts. Everything else works without JavaScript; no inline scripts, so a strict CSP holds.
(function () {
  "use strict";

  var WARNINGS = [30 * 60, 5 * 60];
  // A difference smaller than this between the running countdown and a server reading is the request's own
  // latency: ignored, so the display never steps back and forth.
  var RESYNC_MS = 1500;
  var deadline = null; // the browser's Date.now() at which time is up, from the server's remaining time
  var duration = 0; // the attempt's full length in seconds: no warning at or above it
  var attemptId = "";
  var seq = 0;
  var retryTimer = null;
  var retryDelay = 1000;

  function format(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)), ss = String(s).padStart(2, "0");
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  // The server sends milliseconds left, at render and on every exam response (X-Exam-Remaining-Ms); the browser
  // counts down from its own clock, so clock skew between the two cannot matter.
  function clockSet(remainingMs) {
    var next = Date.now() + remainingMs;
    if (deadline === null || Math.abs(next - deadline) > RESYNC_MS) { deadline = next; }
  }

  function clockInit() {
    var timer = document.getElementById("timer");
    if (!timer || !timer.dataset.remainingMs || timer.dataset.paused) { return; }
    duration = Number(timer.dataset.duration || 0);
    attemptId = timer.dataset.attempt || "";
    clockSet(Number(timer.dataset.remainingMs));
  }

  // Each warning is shown once per attempt in this tab, not again on every page of the exam.
  function warnedBefore(limit) {
    var key = "exam-warned-" + attemptId + "-" + limit;
    try {
      if (window.sessionStorage.getItem(key)) { return true; }
      window.sessionStorage.setItem(key, "1");
    } catch (error) { /* storage off: warn on each page */ }
    return false;
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
    var box = document.getElementById("timer-box");
    WARNINGS.forEach(function (limit) {
      // A 20-minute practice set has no 30-minute warning.
      if (limit >= duration || left > limit || left <= 0) { return; }
      box.classList.toggle("critical", left <= 300);
      box.classList.toggle("low", left > 300);
      if (!warnedBefore(limit)) {
        warn("Less than " + Math.round(limit / 60) + " minutes left. Unanswered and incomplete questions count as wrong.");
      }
    });
    if (left <= 0) {
      warn("Time is up. Your saved answers are being submitted.");
      deadline = null;
      // Give an in-flight save a moment, then let the server finalise the attempt and show the results.
      window.setTimeout(function () { openResults(timer.dataset.openUrl); }, 1500);
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

  // The grid's summary line follows its marks, which saves and flags update out of band.
  function navigatorCount() {
    var counts = document.getElementById("navigator-counts");
    if (!counts) { return; }
    var n = function (state) { return document.querySelectorAll(".navigator-grid > li." + state).length; };
    counts.textContent = n("answered") + " answered, " + n("incomplete") + " incomplete, " +
      n("unanswered") + " unanswered, " + n("flagged") + " flagged";
  }

  function go(parameters) {
    return parameters.get ? parameters.get("go") : parameters.go;
  }

  // Next, Previous, the grid, Save and Check swap in the question's panel (htmx) rather than load a page. The
  // focus then goes where a page load would take a screen reader: the question's heading, or after Check, the
  // feedback. A time warning shown on the last question is closed, as a new page would have it. Only one grid
  // cell keeps the current mark, should another tab have moved on in the meantime.
  var focusAfterSwap = "question-counter";

  function panelSwapped(event) {
    var panel = document.getElementById("exam-panel");
    if (!panel || !event.detail.target || event.detail.target.id !== "exam-panel") { return; }
    var target = document.getElementById(focusAfterSwap) || document.getElementById("question-counter");
    document.querySelectorAll(".navigator-grid [aria-current]").forEach(function (cell) {
      if (cell.parentNode.id !== "nav-" + panel.dataset.position) { cell.removeAttribute("aria-current"); }
    });
    var warning = document.getElementById("timer-warning");
    if (warning) { warning.hidden = true; }
    // After htmx has scrolled the window to the top (it does so once this event is handled): the feedback, below
    // the question, is then scrolled into view as it takes the focus.
    window.setTimeout(function () {
      if (target && document.activeElement !== target) { target.focus({ preventScroll: target.id === "question-counter" }); }
    }, 0);
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "answer-form") {
      focusAfterSwap = go(event.detail.parameters) === "check" ? "feedback-heading" : "question-counter";
    }
    if (go(event.detail.parameters) === "autosave") {
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
    var xhr = event.detail.xhr;
    var remaining = xhr ? xhr.getResponseHeader("X-Exam-Remaining-Ms") : null;
    if (remaining !== null && remaining !== "" && deadline !== null) { clockSet(Number(remaining)); }
    if (event.detail.successful && event.detail.elt && event.detail.elt.id === "answer-fields") { retryDelay = 1000; }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var saved = document.querySelector("#save-status[data-seq]");
    var form = document.getElementById("answer-form");
    if (saved && form) { form.dataset.seq = saved.dataset.seq; }
    navigatorCount();
    panelSwapped(event);
  });

  // Arrow keys move between the grid's questions, row by row as they are laid out.
  function gridMove(event) {
    var cells = Array.prototype.slice.call(document.querySelectorAll(".navigator-grid .cell"));
    var index = cells.indexOf(event.target);
    if (index < 0) { return false; }
    var perRow = 1;
    while (perRow < cells.length && cells[perRow].offsetTop === cells[0].offsetTop) { perRow += 1; }
    var step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -perRow, ArrowDown: perRow }[event.key];
    var target = step === undefined ? null : cells[index + step];
    if (target) { event.preventDefault(); target.focus(); }
    return step !== undefined;
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (gridMove(event)) { return; }
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
    clockInit();
    tick();
    window.setInterval(tick, 1000);
  });
})();
