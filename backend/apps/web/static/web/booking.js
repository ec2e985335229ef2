/* The booking flow's times step: tapping a date swaps the free times in place (Mawid.swap) instead of loading the
   whole page; the address bar follows. Without this file the dates are plain links to the same page. */
(function () {
  "use strict";
  if (!window.Mawid) { return; }
  window.Mawid.on("booking-times", function (root) {
    var target = root.querySelector("[data-times]");
    if (!target || !window.fetch) { return; }
    root.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-fragment]");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
      event.preventDefault();
      root.querySelectorAll("a[data-fragment]").forEach(function (a) { a.removeAttribute("aria-current"); });
      link.setAttribute("aria-current", "date");
      window.Mawid.swap(link.getAttribute("data-fragment"), target).then(function () {
        if (window.history && window.history.replaceState) { window.history.replaceState(null, "", link.href); }
      }).catch(function () { window.location.href = link.href; });
    });
  });
})();
