// Small behaviours for every page. No external dependencies besides the vendored htmx.
(function () {
  "use strict";

  // A field reached to be corrected (a summary's link, 去修改) has its cursor after what is
  // typed, as a click at the end of the text would: typing "5" into "12a" must not give "512a".
  function caretAtEnd(control) {
    if (typeof control.value !== "string" || typeof control.setSelectionRange !== "function") return;
    try { control.setSelectionRange(control.value.length, control.value.length); } catch (e) { /* not a text box */ }
  }

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

  // Buttons that need confirmation carry data-confirm (no inline JS: the CSP forbids it). A
  // form's submit button asks when the form is sent (below), once its required fields are
  // filled in: never "确定报送？" for a form that the next moment turns out incomplete.
  function isSubmitButton(el) {
    return el.form && (el.type === "submit" || el.type === "image");
  }
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !isSubmitButton(target) && !window.confirm(target.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // The idle limit (the server ends a session after so long without a request): warn a few
  // minutes before, with 继续使用; any request of the clerk's own (a save, a live check) counts
  // as activity, the dashboard's background polling does not (as on the server).
  var idle = document.getElementById("idle-warning");
  if (idle) {
    var idleLimit = Number(idle.dataset.idleLimit) * 1000;
    var idleWarn = Number(idle.dataset.idleWarn) * 1000;
    var lastActive = Date.now();
    var showIdle = function (soon) {
      idle.hidden = false;
      idle.querySelectorAll("[data-idle-soon]").forEach(function (el) { el.hidden = !soon; });
      idle.querySelector("[data-idle-over]").hidden = soon;
      // Sticky side panels stand below the warning (app.css: --sticky-top).
      document.documentElement.style.setProperty("--idle-warning-height", idle.offsetHeight + "px");
    };
    var checkIdle = function () {
      var left = lastActive + idleLimit - Date.now();
      if (left > idleWarn) { idle.hidden = true; return; }
      if (left <= 0) { showIdle(false); return; }
      var seconds = Math.ceil(left / 1000);
      idle.querySelector("[data-idle-left]").textContent =
        (seconds >= 60 ? Math.floor(seconds / 60) + " 分 " : "") + (seconds % 60) + " 秒";
      showIdle(true);
    };
    document.body.addEventListener("htmx:afterRequest", function (event) {
      var headers = (event.detail.requestConfig && event.detail.requestConfig.headers) || {};
      if (event.detail.successful && headers["X-Background-Poll"] !== "1") {
        lastActive = Date.now();
        checkIdle();
      }
    });
    setInterval(checkIdle, 1000);
  }

  // In the application form, Enter in a one-line box moves on to the next box instead of
  // sending the form: a clerk copying figures from paper presses Enter after each, and an early
  // save would leave with a draft full of errors. 保存 (and Enter on it) still saves.
  document.addEventListener("keydown", function (event) {
    var control = event.target;
    if (event.key !== "Enter" || event.isComposing || control.tagName !== "INPUT") return;
    if (!control.form || !control.form.classList.contains("application-form")) return;
    if (control.type === "submit" || control.type === "button" || control.type === "image") return;
    event.preventDefault();
    var fields = Array.prototype.filter.call(control.form.elements, function (el) {
      return !el.disabled && el.type !== "hidden" && el.getClientRects().length > 0;
    });
    var next = fields[fields.indexOf(control) + 1];
    if (next) next.focus();
  });

  // Print buttons need JavaScript: they stay hidden without it (the browser's own print remains).
  function showPrintButtons(root) {
    (root || document).querySelectorAll("[data-print][hidden]").forEach(function (el) { el.hidden = false; });
  }

  // ---- issue 25 (3, 4): the application form's errors and the ways into its fields ----
  // A field counts as "touched" once the clerk has changed it (typed, deleted, chosen) and then
  // left it; only then (or after a save was tried) does its "please fill in" show (app.css).
  // Merely passing through with Tab says nothing: GOV.UK's "validate on leaving a changed field".
  function afieldOf(node) {
    return node && node.closest ? node.closest(".application-form .afield") : null;
  }
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var field = afieldOf(event.target);
      if (field) field.classList.add("is-edited");
    });
  });

  // A message never moves what is under the pointer (issue 25 (3)). Every field keeps one line
  // for its message (app.css), which covers most; a message of two or three lines (a duplicate's
  // hint naming the other application, a long label in a narrow column) still grows its field.
  // So around each change a message makes, the page is scrolled by whatever the element under
  // the pointer moved: the choice the clerk is about to click stays under the mouse, whether the
  // message came from leaving a field (mousedown on the next one) or from the live check's answer
  // a moment later. With no mouse over the page (a touch screen, or the mouse gone out of the
  // window) nothing is scrolled: what is under the mouse is what a click would hit.
  var pointer = null;
  ["pointermove", "pointerdown"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      pointer = event.pointerType === "touch" ? null : { x: event.clientX, y: event.clientY };
    }, { passive: true, capture: true });
  });
  document.documentElement.addEventListener("pointerleave", function () { pointer = null; });
  function holdPointerTarget() {
    var target = pointer && document.elementFromPoint(pointer.x, pointer.y);
    if (!target || target === document.documentElement || target === document.body) return function () {};
    var top = target.getBoundingClientRect().top;
    return function () {
      if (!target.isConnected) return;
      var moved = target.getBoundingClientRect().top - top;
      if (Math.abs(moved) >= 1) window.scrollBy({ top: moved, behavior: "instant" });
    };
  }
  // The live check answers with out-of-band fragments for the fields' messages (hx-swap none):
  // held once before the response is swapped in, restored at the first afterSwap, which htmx
  // fires (synchronously) once every fragment is in place.
  var restoreAfterSwap = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.closest && elt.closest(".application-form")) restoreAfterSwap = holdPointerTarget();
  });
  document.addEventListener("htmx:afterSwap", function () {
    var restore = restoreAfterSwap;
    restoreAfterSwap = null;
    if (restore) restore();
  });

  document.addEventListener("focusout", function (event) {
    var field = afieldOf(event.target);
    // Moving between the choices of one group is not leaving the field.
    if (field && field.classList.contains("is-edited") && !field.contains(event.relatedTarget)) {
      var restore = holdPointerTarget();
      field.classList.add("is-touched");
      restore();
    }
  });

  // Put the cursor in a field of the application form, not just scroll to it (the error summary's
  // links, 去修改, the 申报书 comparison's links, the outline): the block stands mid-window, clear of
  // the sticky 保存 bar, its label in view.
  function focusField(field) {
    var control = field.querySelector("input:checked") ||
      field.querySelector("input:not([type=hidden]), select, textarea");
    if (!control) return false;
    control.focus({ preventScroll: true });
    caretAtEnd(control);
    field.scrollIntoView({ block: "center" });
    return true;
  }
  // Links lead to a field's control (#apps_total, a group's first choice #kind-0: GOV.UK's error
  // summary, and without JavaScript the browser then puts the cursor there itself) or to its
  // block (#f-apps_total, from pages written before): either way the field's block is returned.
  function fieldOfHash(hash) {
    var id = /^#[\w-]+$/.test(hash || "") ? hash.slice(1) : "";
    var target = id && document.getElementById(id);
    var field = target && afieldOf(target);
    if (!field) return null;
    return field === target || target.matches("input, select, textarea") ? field : null;
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href*='#']");
    if (!link || link.origin !== location.origin || link.pathname !== location.pathname) return;
    var field = fieldOfHash(link.hash);
    if (field && focusField(field)) {
      event.preventDefault();
      history.replaceState(history.state, "", link.hash);
    }
  });
  function focusOnArrival() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); return; }  // a refused save: the summary first
    var field = fieldOfHash(location.hash);
    if (field) focusField(field);
  }
  document.addEventListener("DOMContentLoaded", focusOnArrival);
  // The browser's own jump to the #fragment focuses the (unfocusable) block, i.e. the viewport,
  // once the page has loaded: put the cursor back in the field after it.
  window.addEventListener("load", function () {
    if (fieldOfHash(location.hash) && !document.querySelector("[data-error-summary]")) setTimeout(focusOnArrival, 0);
  });
  window.addEventListener("hashchange", function () {
    var field = fieldOfHash(location.hash);
    if (field) focusField(field);
  });
  // A summary that htmx swaps in takes the focus as one rendered with the page does.
  document.addEventListener("htmx:load", function (event) {
    var summary = event.target.matches && event.target.matches("[data-error-summary]") ? event.target
      : event.target.querySelector && event.target.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  });
  // The outline is open beside the form on a wide screen and folded above it on a narrow one
  // (the server renders it open, so that without JavaScript it is simply there).
  document.addEventListener("DOMContentLoaded", function () {
    var outline = document.querySelector("details[data-outline]");
    if (outline && window.matchMedia("(max-width: 1000px)").matches) outline.open = false;
  });

  // Required fields, checked before a form is sent, with the app's own Chinese message instead
  // of the browser's tooltip (forms carry novalidate; the server checks the same and answers in
  // Chinese when JavaScript is off).
  function labelOf(control) {
    var label = control.id && document.querySelector('label[for="' + control.id + '"]');
    var text = (label && label.textContent) || control.getAttribute("aria-label") ||
      (control.closest("label") && control.closest("label").textContent) || control.placeholder || "";
    text = text.replace(/\s+/g, " ").replace(/[*\s]+$/, "").trim();
    if (control.type === "checkbox") return text;
    // 「联系人：[  ]」 and 「退回原因（市州可见）」 name the field before the colon or bracket.
    return text.split(/[：:]/)[0].replace(/（[^）]*）$/, "").trim();
  }

  function isBlank(control) {
    if (control.type === "checkbox") return !control.checked;
    if (control.type === "radio") {
      return !control.form.querySelector('input[type=radio][name="' + control.name + '"]:checked');
    }
    return !String(control.value || "").trim();
  }

  function requiredMessage(control) {
    var label = labelOf(control);
    var named = label ? "“" + label + "”" : "此项";
    if (control.type === "checkbox") return "请先勾选" + named + "。";
    var choose = control.type === "file" || control.type === "radio" || control.tagName === "SELECT";
    return (choose ? "请选择" : "请填写") + named + "。";
  }

  function clearRequired(control) {
    if (control._requiredMessage) control._requiredMessage.remove();
    control._requiredMessage = null;
    control.removeAttribute("aria-invalid");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var first = null;
    if (form.classList.contains("application-form")) form.classList.add("was-validated");
    form.querySelectorAll("[required]").forEach(function (control) {
      clearRequired(control);
      if (control.disabled || !isBlank(control)) return;
      var message = document.createElement("p");
      message.className = "msg msg-error";
      message.setAttribute("role", "alert");
      message.textContent = requiredMessage(control);
      (control.closest("label") || control).insertAdjacentElement("afterend", message);
      control._requiredMessage = message;
      control.setAttribute("aria-invalid", "true");
      if (!first) first = control;
    });
    if (first) {
      event.preventDefault();
      event.stopImmediatePropagation();
      first.focus();
      return;
    }
    // A form whose sending needs confirmation (退回修改, 报送) asks only once it is complete: a
    // blank reason is pointed out first, without a dialog for a form that could not be sent.
    var question = form.dataset.confirmSend || (event.submitter && event.submitter.dataset.confirm);
    // The expert's 提交评分 (issue 25, 5) needs every score and opinion, which a draft may leave
    // blank: with one blank, the sheet goes to the server without "提交后将锁定，确定？" (it would
    // not lock), and its refusal's summary says what is missing.
    if (question && event.submitter && "confirmWhenComplete" in event.submitter.dataset &&
        Array.prototype.some.call(form.querySelectorAll("[data-required-to-submit]"), isBlank)) {
      question = null;
    }
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (event.target._requiredMessage && !isBlank(event.target)) clearRequired(event.target);
    });
  });

  // A field's maxlength cuts a paste (or typing) without a word: say so beside the field, in the
  // app's own words, until the value is shorter than the limit again. Pastes are measured on
  // `paste`, typing on `beforeinput`, an input method's text when it is committed.
  function limitOf(control) {
    return control && control.matches && control.matches("input[maxlength], textarea[maxlength]") &&
      control.maxLength >= 0 ? control.maxLength : null;
  }

  function selectedLength(control) {
    try { return (control.selectionEnd || 0) - (control.selectionStart || 0); } catch (e) { return 0; }
  }

  function showCut(control, pasted) {
    var notice = control._cutNotice;
    if (!notice) {
      notice = document.createElement("p");
      notice.className = "msg msg-warning maxlength-notice";
      notice.setAttribute("role", "status");
      var unit = control.closest(".input-unit");
      (unit || control.closest("label") || control).insertAdjacentElement("afterend", notice);
      control._cutNotice = notice;
    }
    var label = labelOf(control);
    notice.textContent = (label ? "“" + label + "”" : "此项") + "最多" + control.maxLength +
      "个字，超出的部分未能填入" + (pasted != null ? "（粘贴了" + Array.from(pasted).length + "个字）" : "");
  }

  function checkCut(control, inserted, pasted, before) {
    var max = limitOf(control);
    if (max === null || inserted == null) return;
    var kept = before != null ? before : control.value.length - selectedLength(control);
    if (kept + inserted.length > max) showCut(control, pasted ? inserted : null);
  }

  document.addEventListener("paste", function (event) {
    var data = event.clipboardData && event.clipboardData.getData("text/plain");
    // an input drops line breaks from a pasted text; a textarea keeps them (as one character)
    if (data && event.target.tagName === "INPUT") data = data.replace(/\r?\n|\r/g, "");
    else if (data) data = data.replace(/\r\n/g, "\n");
    checkCut(event.target, data, true);
  }, true);
  document.addEventListener("beforeinput", function (event) {
    if (event.isComposing || !/^insert(Text|ReplacementText|FromDrop)$/.test(event.inputType || "")) return;
    var text = event.data;
    if (text == null && event.dataTransfer) text = event.dataTransfer.getData("text/plain");
    checkCut(event.target, text, event.inputType === "insertFromDrop");
  }, true);
  document.addEventListener("compositionstart", function (event) {
    if (limitOf(event.target) !== null) {
      event.target._keptBeforeComposition = event.target.value.length - selectedLength(event.target);
    }
  }, true);
  document.addEventListener("compositionend", function (event) {
    checkCut(event.target, event.data, false, event.target._keptBeforeComposition);
  }, true);
  document.addEventListener("input", function (event) {
    var control = event.target;
    if (control._cutNotice && control.value.length < control.maxLength) {
      control._cutNotice.remove();
      control._cutNotice = null;
    }
  });


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

  document.addEventListener("DOMContentLoaded", function () { startCountdowns(document); showPrintButtons(document); });
  document.addEventListener("htmx:load", function (event) { startCountdowns(event.target); });

  // Issue 25 (2): the page scrolls a focused field clear of the application form's sticky 保存
  // bar (app.css: scroll-padding-bottom); the bar grows when the window is narrow and it wraps.
  document.addEventListener("DOMContentLoaded", function () {
    var bar = document.querySelector(".sticky-actions");
    if (!bar || !window.ResizeObserver) return;
    new ResizeObserver(function () {
      document.documentElement.style.setProperty("--sticky-actions-height", bar.offsetHeight + "px");
    }).observe(bar);
  });
  window.xkxl = { formatRemaining: formatRemaining, startCountdowns: startCountdowns, caretAtEnd: caretAtEnd };
})();

// Print buttons (no inline handlers: the CSP forbids them).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});

// A form a clerk fills for minutes (the application, an expert's score sheet) warns before the
// page is left with unsaved changes: a click on 返回 or on the menu must not lose them silently.
(function () {
  var dirty = new WeakSet();
  var WATCHED = ".application-form, .sheet-form";
  function watched(target) { return target && target.closest && target.closest(WATCHED); }
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var form = watched(event.target);
      if (form && event.target.name) dirty.add(form);
    });
  });
  document.addEventListener("submit", function (event) {
    if (event.target.matches && event.target.matches(WATCHED)) dirty.delete(event.target);
  });
  window.addEventListener("beforeunload", function (event) {
    var unsaved = Array.prototype.some.call(document.querySelectorAll(WATCHED), function (form) {
      return dirty.has(form);
    });
    if (unsaved) {
      event.preventDefault();
      event.returnValue = "有未保存的修改，确定离开？";  // browsers show their own wording
    }
  });
})();

// issue 25 (5): a link of an error summary puts the cursor in its field (GOV.UK's behaviour),
// not merely scrolls there; the field's label or legend is brought into view with it.
document.addEventListener("click", function (event) {
  if (event.defaultPrevented) return;  // the application form's own handler (issue 25 (3, 4)) took it
  var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
  if (!link) return;
  var field = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
  if (!field || typeof field.focus !== "function") return;
  event.preventDefault();
  var anchor = field.closest("fieldset") || field;
  var label = field.id && document.querySelector("label[for='" + CSS.escape(field.id) + "']");
  (label && field.type !== "radio" ? label : anchor).scrollIntoView();
  field.focus({ preventScroll: true });
  window.xkxl.caretAtEnd(field);
});

// issue 25 (6c): a line about what only script does (the dashboard's refresh every N seconds) is
// rendered hidden and shown here, where htmx is there to do it; without JavaScript it stays hidden.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.htmx) return;
  document.querySelectorAll("[data-js-only][hidden]").forEach(function (el) { el.hidden = false; });
});
