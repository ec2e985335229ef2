/* A booking's page: the share buttons. Without JavaScript (or without the Web Share API) the plain link stays. */
(function () {
  "use strict";

  window.Mawid.on("share", function (box) {
    var url = box.getAttribute("data-share-url");
    var native = box.querySelector("[data-share=native]");
    var copy = box.querySelector("[data-share=copy]");
    var status = box.querySelector("[data-share=status]");
    if (navigator.share && native) {
      native.classList.remove("hidden");
      native.addEventListener("click", function () {
        navigator.share({
          title: box.getAttribute("data-share-title"), text: box.getAttribute("data-share-text"), url: url
        }).catch(function () { /* the person closed the share sheet */ });
      });
    }
    if (navigator.clipboard && copy) {
      copy.classList.remove("hidden");
      copy.addEventListener("click", function () {
        navigator.clipboard.writeText(url).then(function () {
          status.textContent = copy.getAttribute("data-copied");
        }).catch(function () { /* no permission: the link is on the page */ });
      });
    }
  });
})();
