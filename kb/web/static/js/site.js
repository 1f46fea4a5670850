/* kb help center: small progressive enhancements.  Every page works without this file.
   - search-as-you-type suggestions (ARIA combobox + listbox) from /search/suggest (in the page's language)
   - the category filter submits on change
   - "was this helpful?" votes and comments are sent without reloading the page
   No inline scripts (the Content-Security-Policy forbids them); text is inserted with
   textContent only, never as HTML. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var DEBOUNCE_MS = 150;
  var MIN_CHARS = 2;
  var counter = 0;

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

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function setupSuggest(field) {
    var input = field.querySelector("input[name=q]");
    if (!input) return;
    var form = input.form;
    // The page's own suggest URL (its language prefix kept: the suggestions name sections in it).
    var suggestUrl = field.getAttribute("data-suggest") || "/search/suggest";
    var id = "suggestions-" + (++counter);
    var list = el("ul", "suggestions");
    list.id = id;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", say("suggestions"));
    list.hidden = true;
    field.appendChild(list);
    var status = el("p", "visually-hidden");
    status.setAttribute("role", "status");
    field.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id);

    var timer = null;
    var sequence = 0;
    var items = [];
    var active = -1;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      items.forEach(function (item, i) { item.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(suggestions) {
      list.textContent = "";
      items = suggestions.map(function (s, i) {
        var item = el("li", "suggestion");
        item.id = id + "-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        var link = el("a");
        link.href = s.url;
        link.tabIndex = -1;
        var title = el("span", "suggestion-title", s.title);
        title.dir = "auto";
        title.lang = s.lang || "ar";
        link.appendChild(title);
        if (s.category || s.section) {
          var meta = el("span", "suggestion-meta", s.category || "");
          if (s.section) {
            if (s.category) meta.appendChild(document.createTextNode(" · "));
            meta.appendChild(el("bdi", "", s.section));  /* an English heading keeps its own direction */
          }
          link.appendChild(meta);
        }
        item.appendChild(link);
        list.appendChild(item);
        return item;
      });
      active = -1;
      if (items.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        status.textContent = say("suggestionsCount", { count: items.length });
      } else {
        close();
        status.textContent = "";
      }
    }

    function fetchSuggestions() {
      var query = input.value.trim();
      if (query.length < MIN_CHARS) { close(); return; }
      var mine = ++sequence;
      fetch(suggestUrl + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) {
          if (mine !== sequence || document.activeElement !== input) return;
          render(data.suggestions || []);
        })
        .catch(function () { /* suggestions are optional: the form still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden || !items.length) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        setActive((active + 1) % items.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        setActive(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        window.location.href = items[active].querySelector("a").href;
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 200); });
    if (form) form.addEventListener("submit", function () { sequence++; close(); });
  }

  function setupAutosubmit(select) {
    select.addEventListener("change", function () { if (select.form) select.form.submit(); });
  }

  function setupFeedback(form) {
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) return;
      event.preventDefault();
      var data = new FormData(form);
      var submitter = event.submitter;
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
      var section = form.closest(".feedback");
      Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) { b.disabled = true; });
      fetch(form.action, {
        method: "POST",
        body: data,
        headers: { Accept: "application/json", "X-CSRF-Token": data.get("csrf_token") || "" },
        credentials: "same-origin"
      })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (result) {
          var vote = result.vote || {};
          if (data.get("helpful")) {
            var template = document.getElementById(vote.helpful ? "feedback-after-yes" : "feedback-after-no");
            var heading = section.querySelector("h2");
            section.textContent = "";
            if (heading) section.appendChild(heading);
            if (template) section.appendChild(template.content.cloneNode(true));
            section.querySelectorAll("form[data-feedback]").forEach(setupFeedback);
          } else {
            var thanks = el("p", "feedback-thanks", form.getAttribute("data-thanks") || say("thanks"));
            thanks.setAttribute("role", "status");
            form.replaceWith(thanks);
          }
          section.focus();
        })
        .catch(function () {
          Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) { b.disabled = false; });
          var error = form.querySelector(".feedback-error") || el("p", "feedback-error");
          error.setAttribute("role", "alert");
          error.textContent = say("voteFailed");
          form.appendChild(error);
        });
    });
  }

  /* A table wider than the article scrolls in its own box: make that box reachable by
     keyboard (focusable, named) so it can be scrolled with the arrow keys. */
  function setupWideTables(body) {
    var label = body.getAttribute("data-table-label") || "";
    body.querySelectorAll("table").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.setAttribute("tabindex", "0");
        table.setAttribute("role", "region");
        if (label) table.setAttribute("aria-label", label);
      }
    });
  }

  /* "Copy link" next to each section heading: the section's address goes to the clipboard
     (and into the address bar), with a spoken confirmation. */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = el("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
      area.remove();
      if (ok) resolve(); else reject(new Error("copy failed"));
    });
  }

  function setupSectionLinks(body) {
    var label = body.getAttribute("data-copy-label");
    if (!label) return;
    var done = body.getAttribute("data-copied-label") || "";
    var status = el("p", "visually-hidden");
    status.setAttribute("role", "status");
    body.appendChild(status);
    body.querySelectorAll("h2[id], h3[id]").forEach(function (heading) {
      var button = el("button", "heading-copy");
      button.type = "button";
      button.setAttribute("aria-label", label + ": " + heading.textContent.trim());
      button.title = label;
      button.addEventListener("click", function () {
        var url = location.href.split("#")[0] + "#" + encodeURIComponent(heading.id);
        copyText(url).then(function () {
          status.textContent = done;
          button.classList.add("is-copied");
          setTimeout(function () { button.classList.remove("is-copied"); status.textContent = ""; }, 2500);
        }).catch(function () { location.hash = heading.id; });
      });
      heading.appendChild(button);
    });
  }

  document.querySelectorAll(".article-body").forEach(function (body) {
    setupWideTables(body);
    setupSectionLinks(body);
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("[data-suggest]").forEach(setupSuggest);
  document.querySelectorAll("select[data-autosubmit]").forEach(setupAutosubmit);
  document.querySelectorAll("form[data-feedback]").forEach(setupFeedback);
})();
