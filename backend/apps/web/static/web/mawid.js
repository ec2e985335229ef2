/* Mawid's website: small progressive enhancements. Every page works without this file. No inline script anywhere
   (the Content Security Policy refuses it): behaviour hangs off data- attributes. */
(function () {
  "use strict";

  // data-confirm="..." on a form: ask before submitting (cancel a booking, mark a no-show).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Modules register here: Mawid.on("name", function (element) {...}) runs for each [data-module="name"].
  var modules = {};
  window.Mawid = {
    on: function (name, init) { modules[name] = init; },
    start: function (root) {
      (root || document).querySelectorAll("[data-module]").forEach(function (el) {
        (el.getAttribute("data-module") || "").split(/\s+/).forEach(function (name) {
          if (modules[name] && !el["mawid_" + name]) { el["mawid_" + name] = true; modules[name](el); }
        });
      });
    },
    // Fetch a fragment of HTML (same origin, with cookies) and put it in `target`.
    swap: function (url, target) {
      target.classList.add("loading");
      return fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
        .then(function (html) { target.innerHTML = html; window.Mawid.start(target); })
        .finally(function () { target.classList.remove("loading"); });
    }
  };
  document.addEventListener("DOMContentLoaded", function () { window.Mawid.start(document); });
})();
