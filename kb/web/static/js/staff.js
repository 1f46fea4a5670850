/* Staff pages: live Markdown preview, FAQ rows, image upload, confirmations, unsaved-changes guard.
   Loaded as a same-origin file (the CSP forbids inline scripts); every POST carries the CSRF
   token from <meta name="csrf-token">. Without JavaScript every form still works. */
(function () {
  "use strict";

  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = tokenMeta ? tokenMeta.getAttribute("content") : "";

  /* The page's words for what this script says (base.html's #kb-messages, in the page's language). */
  var messages = (function () {
    var block = document.getElementById("kb-messages");
    try { return block ? JSON.parse(block.textContent) : {}; } catch (e) { return {}; }
  })();
  function say(key, values) {
    var text = messages[key] || "";
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(values[name]); });
    return text;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var message = data && data.error ? data.error.message : say("requestFailed", { status: response.status });
          throw new Error(message);
        }
        return data;
      });
    });
  }

  /* -- live preview ------------------------------------------------------------------ */
  var source = document.querySelector("[data-preview-source]");
  var target = document.querySelector("[data-preview-target]");
  if (source && target) {
    var timer = null;
    var sent = 0;
    var refresh = function () {
      var mine = ++sent;
      var form = new FormData();
      form.append("body", source.value);
      post(source.getAttribute("data-preview-source"), form).then(function (data) {
        if (mine === sent) {
          target.innerHTML = data.html || "";  /* sanitized by the server (nh3) */
          showExternalImages(data.external_images || []);
        }
      }).catch(function () { /* keep the last preview */ });
    };
    source.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
    followCaret(source, target);
  }

  /* Images on other sites show as links to readers: list them above the preview. */
  function showExternalImages(urls) {
    var box = document.querySelector("[data-preview-warnings]");
    var list = box && box.querySelector("[data-preview-warning-list]");
    if (!list) { return; }
    list.textContent = "";
    urls.forEach(function (url) {
      var item = document.createElement("li");
      item.dir = "ltr";
      item.textContent = url;
      list.appendChild(item);
    });
    box.hidden = urls.length === 0;
  }

  /* The preview follows the caret: the section the caret is in (by its heading) is brought
     into view, at the same proportion of the way through it.  The pane is a focusable
     region, so keyboard users can scroll it too. */
  function followCaret(source, target) {
    var pane = target.closest(".preview-pane") || target;
    if (!pane.hasAttribute("tabindex")) { pane.setAttribute("tabindex", "0"); }
    if (!pane.hasAttribute("role")) { pane.setAttribute("role", "region"); }
    var pending = null;
    function headingLines(lines) {
      var found = [];
      var fence = false;
      lines.forEach(function (line, index) {
        if (/^\s*(```|~~~)/.test(line)) { fence = !fence; return; }
        if (!fence && /^#{1,6}[ \t]+\S/.test(line)) { found.push(index); }
      });
      return found;
    }
    function offsetIn(element) {
      return element.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop;
    }
    function sync() {
      pending = null;
      if (pane.scrollHeight <= pane.clientHeight) { return; }
      var lines = source.value.split("\n");
      var caretLine = source.value.slice(0, source.selectionStart).split("\n").length - 1;
      var starts = headingLines(lines);
      var section = 0;
      while (section < starts.length && starts[section] <= caretLine) { section++; }
      var from = section ? starts[section - 1] : 0;
      var to = section < starts.length ? starts[section] : lines.length;
      var fraction = to > from ? (caretLine - from) / (to - from) : 0;
      var headings = target.querySelectorAll("h1, h2, h3, h4, h5, h6");
      var top = section && headings[section - 1] ? offsetIn(headings[section - 1]) : 0;
      var bottom = headings[section] ? offsetIn(headings[section]) : pane.scrollHeight;
      pane.scrollTop = Math.max(0, top + fraction * (bottom - top) - pane.clientHeight / 3);
    }
    function later() {
      if (pending === null) { pending = window.requestAnimationFrame(sync); }
    }
    ["keyup", "click", "focus", "input"].forEach(function (name) { source.addEventListener(name, later); });
    new MutationObserver(later).observe(target, { childList: true });
    /* A late web font or image, or a narrower window, moves the headings: follow again. */
    if (window.ResizeObserver) { new ResizeObserver(later).observe(target); }
  }

  /* -- tables on a phone: each cell is labelled with its column (see staff.css) ------- */
  document.querySelectorAll("table.table").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (cell) {
      return cell.textContent.trim();
    });
    if (!heads.length) { return; }
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (heads[index] && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", heads[index]); }
      });
    });
    table.classList.add("table--stacked");
  });

  /* -- FAQ rows ---------------------------------------------------------------------- */
  var faqList = document.querySelector("[data-faq-list]");
  var faqTemplate = document.getElementById("faq-row-template");
  var faqAdd = document.querySelector("[data-faq-add]");
  if (faqList && faqTemplate && faqAdd) {
    faqAdd.hidden = false;
    faqAdd.addEventListener("click", function () {
      faqList.appendChild(faqTemplate.content.cloneNode(true));
      var inputs = faqList.querySelectorAll('input[name="faq_q"]');
      inputs[inputs.length - 1].focus();
    });
    faqList.addEventListener("click", function (event) {
      var button = event.target.closest("[data-faq-remove]");
      if (!button) { return; }
      var row = button.closest("[data-faq-row]");
      if (row) { row.remove(); markDirty(); }
    });
  }

  /* -- image upload: insert ![alt](url) at the cursor -------------------------------- */
  var upload = document.querySelector("[data-image-upload]");
  if (upload) {
    upload.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = upload.querySelector("[data-upload-status]");
      status.textContent = say("uploading");
      post(upload.action, new FormData(upload)).then(function (data) {
        status.textContent = say("imageInserted");
        if (source) {
          var at = source.selectionStart || source.value.length;
          var text = "\n" + data.markdown + "\n";
          source.value = source.value.slice(0, at) + text + source.value.slice(at);
          source.dispatchEvent(new Event("input", { bubbles: true }));
        }
        upload.reset();
      }).catch(function (error) {
        status.textContent = error.message;
      });
    });
  }

  /* -- confirmations ----------------------------------------------------------------- */
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  /* -- warn before leaving with unsaved changes -------------------------------------- */
  var editor = document.querySelector("form[data-editor]");
  var dirty = false;
  function markDirty() { dirty = true; }
  if (editor) {
    editor.addEventListener("input", markDirty);
    editor.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  }
})();
