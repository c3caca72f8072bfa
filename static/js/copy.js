// Copy buttons: <button data-copy="ID"> copies the value (or text) of the element with that id. The buttons
// start hidden and are shown only where the Clipboard API exists (it needs HTTPS or localhost); elsewhere, and
// when the browser refuses, the text stays on the page to select and copy by hand, and is selected for you.
(function () {
  "use strict";
  if (!navigator.clipboard) {
    return;
  }
  function say(button, text) {
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    if (status) {
      status.textContent = text;
    }
  }
  function select(source) {
    if (source.select) {
      source.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      if (!source) {
        return;
      }
      var text = source.value !== undefined ? source.value : source.textContent.trim();
      navigator.clipboard.writeText(text).then(
        function () {
          say(button, "Copied.");
        },
        function () {
          select(source);
          say(button, "Could not copy: the text is selected, press Ctrl+C (or Cmd+C) to copy it.");
        }
      );
    });
  });
})();
