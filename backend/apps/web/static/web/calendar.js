/* The business calendar: an open day or week view asks every data-poll milliseconds whether its bookings changed
   (GET data-changes&since=VERSION: 204 when not, else the grid's new HTML and its X-Calendar-Version) and swaps
   the grid in place. Paused while the tab is hidden. Without this file the page's refresh link does the same. */
(function () {
  "use strict";
  if (!window.Mawid) { return; }
  window.Mawid.on("cal-live", function (box) {
    var url = box.getAttribute("data-changes");
    var every = parseInt(box.getAttribute("data-poll"), 10) || 10000;
    var busy = false;
    if (!url) { return; }
    function check() {
      if (busy || document.hidden) { return; }
      busy = true;
      var sep = url.indexOf("?") < 0 ? "?" : "&";
      var scroll = box.querySelector(".cal-scroll");
      var left = scroll ? scroll.scrollLeft : 0;
      fetch(url + sep + "since=" + encodeURIComponent(box.getAttribute("data-version") || ""), {
        headers: { "X-Requested-With": "fetch" }, credentials: "same-origin", cache: "no-store"
      }).then(function (r) {
        if (r.status === 204 || !r.ok) { return null; }
        var version = r.headers.get("X-Calendar-Version");
        return r.text().then(function (html) {
          box.innerHTML = html;
          if (version) { box.setAttribute("data-version", version); }
          var fresh = box.querySelector(".cal-scroll");
          if (fresh) { fresh.scrollLeft = left; }
          window.Mawid.start(box);
        });
      }).catch(function () { /* offline for a moment: the next tick tries again */ })
        .finally(function () { busy = false; });
    }
    window.setInterval(check, every);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { check(); } });
  });
})();
