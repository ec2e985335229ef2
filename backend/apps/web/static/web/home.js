/* The home page's "near me" and the print buttons (poster, receipt). Without this file the city choice and the
   browser's own print menu do the same work. */
(function () {
  "use strict";

  // [data-module=near-me] form: the button asks the browser for its location, fills lat/lng and submits.
  window.Mawid.on("near-me", function (form) {
    var button = form.querySelector("[data-near=button]");
    var status = form.querySelector("[data-near=status]");
    if (!button || !("geolocation" in navigator)) { return; }
    button.classList.remove("hidden");
    button.addEventListener("click", function () {
      status.textContent = form.getAttribute("data-locating");
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        form.querySelector("[data-near=lat]").value = position.coords.latitude.toFixed(5);
        form.querySelector("[data-near=lng]").value = position.coords.longitude.toFixed(5);
        form.submit();
      }, function () {
        status.textContent = form.getAttribute("data-denied");
        button.disabled = false;
      }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 });
    });
  });

  // [data-module=print] button: shown only with JavaScript, prints the page.
  window.Mawid.on("print", function (button) {
    button.classList.remove("hidden");
    button.addEventListener("click", function () { window.print(); });
  });
})();
