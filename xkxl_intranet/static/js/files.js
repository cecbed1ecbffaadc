// Uploads: drag and drop or choose, one file per request, a progress bar while sending,
// and a visible message when the server refuses (htmx does not swap 4xx/5xx responses).
// Several files chosen together are one batch: each answer replaces the box, so the messages
// of the batch's earlier files are kept here and shown again, one per file, until it ends.
// Loaded with <script defer> by the files templates; no inline JS (the CSP forbids it).
(function () {
  "use strict";
  if (window.xkxlFiles) return; // the fragment may be loaded more than once
  document.documentElement.classList.add("js-files");

  var queue = []; // {sectionId, file}
  var busy = null; // the form currently sending
  var batches = {}; // sectionId -> [{level, text}]: what the current batch's files got so far

  function uploadForm(el) {
    return el && el.closest ? el.closest("form[data-upload]") : null;
  }

  function sectionIdOf(form) {
    var section = form.closest(".file-category");
    return section ? section.id : null;
  }

  function formInSection(sectionId) {
    var section = document.getElementById(sectionId);
    return section ? section.querySelector("form[data-upload]") : null;
  }

  function mb(bytes) {
    return (bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0) + " MB";
  }

  function say(form, text, level) {
    var box = form.querySelector(".upload-status");
    if (!box) return;
    box.textContent = text;
    box.className = "upload-status msg" + (level ? " msg-" + level : "");
  }

  function showProgress(form, percent, text) {
    var row = form.querySelector(".upload-progress-row");
    if (!row) return;
    row.hidden = percent === null;
    if (percent === null) return;
    row.querySelector("progress").value = percent;
    row.querySelector(".upload-percent").textContent = text || "";
  }

  function pendingFor(sectionId) {
    return queue.filter(function (item) { return item.sectionId === sectionId; }).length;
  }

  function remember(sectionId, level, text) {
    var batch = batches[sectionId] || (batches[sectionId] = []);
    var seen = batch.some(function (m) { return m.text === text; });
    if (text && !seen) batch.push({ level: level, text: text });
  }

  // The server's messages in a box just swapped in (not the ones shown again from the batch).
  function collectAnswer(sectionId) {
    var section = document.getElementById(sectionId);
    if (!section) return;
    section.querySelectorAll(":scope > p.msg:not([data-batch])").forEach(function (p) {
      var level = p.classList.contains("msg-error") ? "danger" :
        (p.classList.contains("msg-warning") ? "warning" : "success");
      remember(sectionId, level, p.textContent.replace(/\s+/g, " ").trim());
    });
  }

  // Every message of the batch in the box, in the order the files were sent.
  function showBatch(sectionId) {
    var section = document.getElementById(sectionId);
    var batch = batches[sectionId];
    if (!section || !batch) return;
    section.querySelectorAll(":scope > p.msg").forEach(function (p) { p.remove(); });
    var head = section.querySelector(":scope > .file-category-head");
    var anchor = head ? head.nextSibling : section.firstChild;
    batch.forEach(function (m) {
      var p = document.createElement("p");
      p.className = "msg msg-" + (m.level === "danger" ? "error" : m.level);
      p.setAttribute("role", m.level === "danger" ? "alert" : "status");
      p.dataset.batch = "";
      p.textContent = m.text;
      section.insertBefore(p, anchor);
    });
  }

  function enqueue(form, fileList) {
    var files = Array.prototype.slice.call(fileList || []);
    if (!files.length) return;
    var input = form.querySelector("input[type=file]");
    var label = form.dataset.label || "文件";
    var maxBytes = Number(form.dataset.maxBytes) || Infinity;
    var maxMb = form.dataset.maxMb;
    if (!input.multiple && files.length > 1) {
      say(form, "“" + label + "”每次只能上传一个文件，请只选择一个文件。", "error");
      return;
    }
    var refused = [];
    var sectionId = sectionIdOf(form);
    if (!pendingFor(sectionId) && !(busy && sectionIdOf(busy) === sectionId)) {
      batches[sectionId] = []; // a new batch: the last one's messages are replaced
    }
    files.forEach(function (file) {
      if (file.size > maxBytes) {
        refused.push("文件“" + file.name + "”大小为 " + mb(file.size) + "，超过了每个文件 " + maxMb +
                     " MB 的上限，请压缩或拆分后重新上传。");
      } else {
        queue.push({ sectionId: sectionId, file: file });
      }
    });
    refused.forEach(function (text) { remember(sectionId, "danger", text); });
    if (refused.length) showBatch(sectionId);
    if (typeof DataTransfer === "undefined") {
      // Very old browser: send what was chosen in one request (the server takes several).
      queue = [];
      if (!refused.length) submit(form);
      return;
    }
    next();
  }

  function submit(form) {
    busy = form;
    // A box swapped in a moment ago may not be wired up by htmx yet (that happens when the
    // swap settles); processing an element twice is harmless.
    if (window.htmx) window.htmx.process(form);
    if (form.requestSubmit) form.requestSubmit();
    else window.htmx.trigger(form, "submit");
  }

  function next() {
    if (busy || !queue.length) return;
    var item = queue.shift();
    var form = formInSection(item.sectionId);
    if (!form) { next(); return; }
    var transfer = new DataTransfer();
    transfer.items.add(item.file);
    form.querySelector("input[type=file]").files = transfer.files;
    form.dataset.sending = item.file.name;
    submit(form);
  }

  function finished(form) {
    var sectionId = form ? sectionIdOf(form) : null; // a swapped-out form keeps its old box as parent
    if (sectionId) {
      collectAnswer(sectionId);
      showBatch(sectionId);
    }
    busy = null;
    window.setTimeout(next, 0);
  }

  // Choosing files uploads them at once (the 上传 button is for browsers without JS).
  document.addEventListener("change", function (event) {
    var form = uploadForm(event.target);
    if (form && event.target.matches("input[type=file]")) {
      var files = Array.prototype.slice.call(event.target.files || []);
      if (typeof DataTransfer !== "undefined") event.target.value = "";
      enqueue(form, files);
    }
  });

  // Drag and drop onto an upload box; a file dropped elsewhere must not replace the page.
  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var form = uploadForm(event.target);
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") >= 0) {
        event.preventDefault();
        event.dataTransfer.dropEffect = form ? "copy" : "none";
      }
      if (form) form.classList.add("is-dragover");
    });
  });
  document.addEventListener("dragleave", function (event) {
    var form = uploadForm(event.target);
    if (form && !form.contains(event.relatedTarget)) form.classList.remove("is-dragover");
  });
  document.addEventListener("drop", function (event) {
    if (!event.dataTransfer || !event.dataTransfer.files || !event.dataTransfer.files.length) return;
    event.preventDefault();
    var form = uploadForm(event.target);
    if (!form) return;
    form.classList.remove("is-dragover");
    enqueue(form, event.dataTransfer.files);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = uploadForm(event.detail.elt);
    if (!form) return;
    busy = form;
    say(form, "", "");
    showProgress(form, 0, "准备上传…");
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = uploadForm(event.target);
    if (!form || !event.detail.lengthComputable || !event.detail.total) return;
    var percent = Math.floor(event.detail.loaded * 100 / event.detail.total);
    var waiting = pendingFor(sectionIdOf(form));
    var name = form.dataset.sending ? "“" + form.dataset.sending + "” " : "";
    showProgress(form, percent, "正在上传" + name + percent + "%（" + mb(event.detail.loaded) + " / " +
                 mb(event.detail.total) + "）" + (waiting ? "，另有 " + waiting + " 个文件等待上传" : "") +
                 (percent >= 100 ? "，服务器正在检查文件…" : ""));
  });

  function responseText(xhr) {
    var text = "";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var alert = doc.querySelector("[role=alert]") || doc.body;
      text = (alert ? alert.textContent : "").replace(/\s+/g, " ").trim();
    } catch (e) { text = ""; }
    return text;
  }

  // A refusal that did not replace the box (413, a lost connection): said for the file sent.
  function refusedBy(form, text) {
    var name = form.dataset.sending;
    var sectionId = sectionIdOf(form);
    if (name && text.indexOf("“" + name + "”") < 0) text = "文件“" + name + "”" + text;
    if (!sectionId) { say(form, text, "error"); return; }
    remember(sectionId, "danger", text);
    showBatch(sectionId);
  }

  // A refused upload answers 4xx with the box and its message (X-Upload-Refused): swap it in
  // like any answer. Other 4xx (the server's 413, an expired page) are handled just below.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!uploadForm(event.detail.elt) || !event.detail.xhr.getResponseHeader("X-Upload-Refused")) return;
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  });

  document.addEventListener("htmx:responseError", function (event) {
    var form = uploadForm(event.detail.elt);
    if (!form) return;
    var xhr = event.detail.xhr;
    var text = responseText(xhr);
    if (xhr.status === 413) {
      text = text || ("上传的文件超过了系统允许的大小（每个文件不超过 " + form.dataset.maxMb + " MB）。");
    }
    showProgress(form, null);
    refusedBy(form, "上传失败：" + (text || ("服务器返回错误 " + xhr.status)));
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = uploadForm(event.detail.elt);
    if (!form) return;
    showProgress(form, null);
    refusedBy(form, "上传失败：与服务器的连接中断。请确认文件不超过 " + form.dataset.maxMb +
              " MB、网络正常后重试。");
  });

  // After a swap the form is gone and htmx re-fires afterRequest on an ancestor still in the
  // page (with detail.elt set to that ancestor); requestConfig.elt is the form that sent.
  document.addEventListener("htmx:afterRequest", function (event) {
    var origin = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt;
    if (busy && origin === busy) finished(busy);
  });

  window.xkxlFiles = { enqueue: enqueue, queue: queue };
})();

// A new 申报书 is read by a worker once it is stored: on the application's page the panels that
// depend on it (what was read from the document, and the check results beside the form) are
// fetched again, so the clerk does not take the old "尚未上传申报书" for a failed reading; the
// panel then says 正在读取 and asks for itself until the reading is kept.
document.body && document.body.addEventListener("files-changed", function (event) {
  var detail = event.detail || {};
  if (detail.category !== "form" || !window.htmx) return;
  ["#document", "#findings"].forEach(function (selector) {
    if (document.querySelector(selector)) {
      window.htmx.ajax("GET", window.location.pathname, {target: selector, select: selector, swap: "outerHTML"});
    }
  });
});
