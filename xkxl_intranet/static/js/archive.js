// A ZIP being built (templates/files/_archive_progress.html): once the polled box says it is
// ready, follow its download link once; the page stays (the answer is an attachment). No
// inline JS anywhere (the CSP forbids it).
(function () {
  "use strict";
  if (window.xkxlArchive) return;
  window.xkxlArchive = true;
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail && event.detail.elt ? event.detail.elt : event.target;
    var link = root.matches && root.matches("a[data-auto-download]") ? root
      : root.querySelector && root.querySelector("a[data-auto-download]");
    if (link && !link.dataset.followed) {
      link.dataset.followed = "1";
      window.location.href = link.href;
    }
  });
})();
