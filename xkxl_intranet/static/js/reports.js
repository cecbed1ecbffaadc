// Report downloads: Excel and PDF are generated on request. Links marked data-download are
// fetched in the background so that the page can show that the file is being generated (and
// for how long) instead of looking idle; without JavaScript they are plain download links.
// No inline JS anywhere (the CSP forbids it).
(function () {
  "use strict";
  if (window.xkxlReports) return;

  function fileName(response, fallback) {
    var header = response.headers.get("Content-Disposition") || "";
    var star = /filename\*=UTF-8''([^;]+)/i.exec(header);
    if (star) {
      try { return decodeURIComponent(star[1]); } catch (e) { /* use the plain name */ }
    }
    var plain = /filename="?([^";]+)"?/i.exec(header);
    return plain ? plain[1] : fallback;
  }

  function statusFor(link) {
    var next = link.nextElementSibling;
    if (next && next.classList.contains("download-status")) return next;
    var span = document.createElement("span");
    span.className = "download-status small muted";
    span.setAttribute("role", "status");
    link.insertAdjacentElement("afterend", span);
    return span;
  }

  function save(blob, name) {
    var url = URL.createObjectURL(blob);
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 30000);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-download]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (!window.fetch || !window.URL || !URL.createObjectURL) return; // plain download
    event.preventDefault();
    if (link.getAttribute("aria-busy") === "true") return;
    var status = statusFor(link);
    var started = Date.now();
    link.setAttribute("aria-busy", "true");
    link.classList.add("is-busy");
    status.textContent = "正在生成…";
    var timer = setInterval(function () {
      status.textContent = "正在生成… " + Math.round((Date.now() - started) / 1000) + " 秒";
    }, 1000);
    function done(text) {
      clearInterval(timer);
      link.removeAttribute("aria-busy");
      link.classList.remove("is-busy");
      status.textContent = text;
    }
    fetch(link.href, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      var name = fileName(response, link.textContent.trim());
      return response.blob().then(function (blob) { return { blob: blob, name: name }; });
    }).then(function (result) {
      save(result.blob, result.name);
      done("已生成（" + ((Date.now() - started) / 1000).toFixed(1) + " 秒）");
    }).catch(function (error) {
      done(error && error.message === "404" ? "无法下载：该报表不存在或无权查看" : "生成失败，请稍后重试");
    });
  });

  window.xkxlReports = { fileName: fileName };
})();
