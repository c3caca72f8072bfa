// Site-wide behaviour: apply a newly chosen text size at once (the server sends it as an htmx event).
(function () {
  "use strict";
  document.addEventListener("textSizeChanged", function (event) {
    var root = document.documentElement;
    root.className = root.className.replace(/\btext-[a-z]+\b/g, "").trim() + " text-" + event.detail.value;
  });
})();
