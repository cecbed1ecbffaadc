// Small behaviours for every page. No external dependencies besides the vendored htmx.
(function () {
  "use strict";

  // The deadline countdown ticks from the server's clock, not the PC's: the page carries
  // the server time it was rendered at, and we only add the time elapsed since then.
  function formatRemaining(ms) {
    if (ms <= 0) return "已截止";
    var s = Math.floor(ms / 1000);
    var d = Math.floor(s / 86400); s -= d * 86400;
    var h = Math.floor(s / 3600); s -= h * 3600;
    var m = Math.floor(s / 60); s -= m * 60;
    if (d > 0) return "剩余 " + d + " 天 " + h + " 小时 " + m + " 分";
    return "剩余 " + h + " 小时 " + m + " 分 " + s + " 秒";
  }

  function startCountdowns(root) {
    (root || document).querySelectorAll("[data-countdown-deadline]").forEach(function (el) {
      if (el.dataset.countdownStarted) return;
      el.dataset.countdownStarted = "1";
      var deadline = Number(el.dataset.countdownDeadline);
      var skew = Number(el.dataset.countdownNow) - Date.now();
      function tick() {
        var left = deadline - (Date.now() + skew);
        el.textContent = formatRemaining(left);
        el.classList.toggle("is-over", left <= 0);
        el.classList.toggle("is-near", left > 0 && left < 7 * 86400 * 1000);
      }
      tick();
      setInterval(tick, 1000);
    });
  }

  // Buttons that need confirmation carry data-confirm (no inline JS: the CSP forbids it).
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // A file input that states its limit (data-max-bytes) refuses a larger file before anything is
  // sent: the browser knows the size. (Upload boxes do the same in files.js.) The server still
  // answers 413 to a client that sends one anyway.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) return;
    var max = Number(input.dataset.maxBytes);
    var box = input.form && input.form.querySelector("[data-size-message]");
    var big = Array.prototype.filter.call(input.files || [], function (f) { return f.size > max; });
    if (box) {
      box.hidden = !big.length;
      box.textContent = big.map(function (f) {
        return "文件“" + f.name + "”大小为 " + (f.size / 1048576).toFixed(1) + " MB，超过了 " +
          input.dataset.maxLabel + " 的上限，" + (input.dataset.maxAdvice || "请压缩后重新上传。");
      }).join(" ");
    }
    if (big.length) input.value = ""; // nothing too large can be submitted
  });

  document.addEventListener("DOMContentLoaded", function () { startCountdowns(document); });
  document.addEventListener("htmx:load", function (event) { startCountdowns(event.target); });
  window.xkxl = { formatRemaining: formatRemaining, startCountdowns: startCountdowns };
})();

// Print buttons (no inline handlers: the CSP forbids them).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});
