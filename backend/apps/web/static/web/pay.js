/* The payment page: starts Moyasar's payment form (or the Moyasar fake's equivalent) with the configuration the
   server put in #moyasar-config (json_script; no inline script). Without JavaScript the page says so instead. */
(function () {
  "use strict";

  function start() {
    var data = document.getElementById("moyasar-config");
    var missing = document.querySelector("[data-pay=missing]");
    if (!data) { return; }
    if (!window.Moyasar || typeof window.Moyasar.init !== "function") {
      if (missing) { missing.classList.remove("hidden"); }
      return;
    }
    var config = JSON.parse(data.textContent);
    window.Moyasar.init(config);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
