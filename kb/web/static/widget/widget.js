/* kb help widget: one script tag adds a help button and panel to any site.
 *
 *   <script src="https://help.example.com/widget.js" defer
 *           data-lang="ar" data-position="left" data-color="#0b6e4f"
 *           data-contact-url="https://example.com/contact" data-context="shipping"></script>
 *
 * Everything lives in a shadow root (the host page's CSS cannot reach in, ours cannot leak
 * out), styled by widget.css from the help center (the host's CSP allows the help center's
 * origin for script, style and connect).  No HTML is ever parsed: articles arrive as a JSON
 * tree and are built with createElement/textContent, so Trusted Types hosts work too.
 * One global, window.KBHelpWidget: open(query), close(), toggle(), setContext(text).
 */
(function () {
  "use strict";
  var NAME = "KBHelpWidget";
  if (window[NAME]) return;
  var script = document.currentScript || document.querySelector("script[src$='/widget.js']");
  if (!script) return;
  var data = script.dataset;
  var base = new URL(".", script.src).href;
  var api = base + "api/widget/";
  var lang = data.lang || (document.documentElement.lang || "").slice(0, 2).toLowerCase();
  var context = data.context || "";
  var cfg, S, shadow, root, launcher, panel, input, list, heading, status, articleView, searchView, contactLink;
  var pageResults = null, seq = 0, timer = 0, recordTimer = 0, lastQuery = "", searchId = null, current = null;
  var opened = false, readyAt = 0, pending = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) {
      if (key === "text") node.textContent = attrs[key];
      else if (attrs[key] !== null && attrs[key] !== undefined && attrs[key] !== false) node.setAttribute(key, attrs[key]);
    }
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function query(params) {
    var parts = [];
    for (var key in params) parts.push(key + "=" + encodeURIComponent(params[key]));
    return parts.join("&");
  }

  function get(path, params, signal) {
    return fetch(api + path + "?" + query(params), { credentials: "omit", signal: signal }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function say(text) { status.textContent = text; }

  function warn(text) { if (window.console) console.warn("kb help widget: " + text); }

  function visitor() {
    var key = "kb-help-widget:visitor", id = null;
    try { id = localStorage.getItem(key); } catch (e) { /* storage blocked: one id per page */ }
    if (!id) {
      var bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
      try { localStorage.setItem(key, id); } catch (e) { /* ignore */ }
    }
    return id;
  }

  // -- building the panel ------------------------------------------------------------------

  function build() {
    var host = document.createElement("kb-help-widget");
    shadow = host.attachShadow({ mode: "open" });
    var sheet = el("link", { rel: "stylesheet", href: cfg.stylesheet });
    sheet.addEventListener("load", function () {
      root.hidden = false;
      readyAt = performance.now();
      if (pending) show(pending[0]);
    });
    sheet.addEventListener("error", function () { warn("its stylesheet did not load"); });
    shadow.appendChild(sheet);
    var side = data.position === "left" || data.position === "right" ? data.position : (cfg.dir === "rtl" ? "left" : "right");
    root = el("div", { "class": "kbw kbw-" + side, dir: cfg.dir, lang: cfg.lang, hidden: "" });
    var color = /^#[0-9a-f]{3,8}$/i.test(data.color || "") ? data.color : cfg.color;
    if (color) root.style.setProperty("--kbw-color", color);
    launcher = el("button", { type: "button", "class": "kbw-launcher", "aria-expanded": "false", "aria-controls": "kbw-panel" },
      [el("span", { "class": "kbw-icon", "aria-hidden": "true", text: "?" }), el("span", { text: S.open })]);
    launcher.addEventListener("click", toggle);
    var close = el("button", { type: "button", "class": "kbw-close", "aria-label": S.close, text: "\u00d7" });
    close.addEventListener("click", function () { hide(true); });
    input = el("input", { type: "search", id: "kbw-q", "class": "kbw-input", placeholder: S.placeholder,
      autocomplete: "off", enterkeyhint: "search", "aria-describedby": "kbw-status", maxlength: "500" });
    input.addEventListener("input", onType);
    input.addEventListener("keydown", onInputKey);
    heading = el("h3", { "class": "kbw-heading", id: "kbw-list-title", text: S.suggested });
    list = el("ul", { "class": "kbw-list", "aria-labelledby": "kbw-list-title" });
    list.addEventListener("keydown", onListKey);
    status = el("p", { id: "kbw-status", "class": "kbw-status", role: "status", "aria-live": "polite" });
    searchView = el("div", { "class": "kbw-view" }, [
      el("label", { "for": "kbw-q", "class": "kbw-label", text: S.search }), input, status, heading, list]);
    articleView = el("div", { "class": "kbw-view kbw-article", hidden: "" });
    contactLink = el("a", { "class": "kbw-contact", target: "_blank", rel: "noopener", text: S.contact });
    contactLink.addEventListener("click", function () { contactLink.href = contactUrl(); });
    contactLink.href = contactUrl();
    panel = el("section", { id: "kbw-panel", "class": "kbw-panel", role: "dialog", "aria-labelledby": "kbw-title", hidden: "" }, [
      el("header", { "class": "kbw-header" }, [el("h2", { id: "kbw-title", text: S.title }), close]),
      el("div", { "class": "kbw-body" }, [searchView, articleView]),
      el("footer", { "class": "kbw-footer" }, [contactLink])]);
    panel.addEventListener("keydown", function (event) { if (event.key === "Escape") hide(true); });
    root.appendChild(launcher);
    root.appendChild(panel);
    shadow.appendChild(root);
    document.body.appendChild(host);
  }

  function contactUrl() {
    if (data.contactUrl) return data.contactUrl;
    if (!cfg.contact_takes_query) return cfg.contact_url;
    return cfg.contact_url + "?" + query({ q: lastQuery || (current && current.title) || "", lang: cfg.lang, source: "widget" });
  }

  // -- open, close -------------------------------------------------------------------------

  function show(text) {
    if (!cfg || root.hidden) { pending = [text]; return; }
    pending = null;
    opened = true;
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    if (typeof text === "string" && text) { input.value = text; search(text, true); }
    showSearch();
    if (pageResults === null && !input.value) loadPage();
  }

  function hide(focusLauncher) {
    if (!opened) return;
    opened = false;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    if (focusLauncher) launcher.focus();
  }

  function toggle() { if (opened) hide(false); else show(); }

  function loadPage() {
    pageResults = [];
    say(S.loading);
    get("page", { title: document.title, context: context, lang: cfg.lang }).then(function (body) {
      pageResults = body.results;
      if (!input.value) render(pageResults, S.suggested, true);
    }, function () { pageResults = null; say(S.error); });
  }

  // -- search as you type ------------------------------------------------------------------

  function onType() {
    clearTimeout(timer);
    clearTimeout(recordTimer);
    var text = input.value.trim();
    if (text.length < 2) {
      seq++;
      lastQuery = "";
      render(pageResults || [], S.suggested, true);
      return;
    }
    timer = setTimeout(function () { search(text, false); }, 150);
  }

  function search(text, record) {
    var mine = ++seq;
    say(S.loading);
    var params = { q: text, lang: cfg.lang };
    if (record) params.record = "1";
    get("search", params).then(function (body) {
      if (mine !== seq) return;
      lastQuery = text;
      if (record) searchId = body.search_id;
      else { searchId = null; recordTimer = setTimeout(function () { if (mine === seq) search(text, true); }, 1500); }
      // A misspelt question searched corrected ("angry custmer"): the heading names what was searched.
      render(body.results, body.corrected ? S.corrected.replace("{question}", body.corrected) : S.results, false);
    }, function () { if (mine === seq) say(S.error); });
  }

  function render(results, title, isPage) {
    heading.textContent = title;
    list.textContent = "";
    var answers = 0;
    results.forEach(function (hit, index) {
      // The articles that answer come first; the related ones after a label (kb.search.tiers).
      if (!isPage && hit.related && (index === 0 || !results[index - 1].related)) {
        list.appendChild(el("li", { "class": "kbw-related", text: S.related }));
      }
      if (!hit.related) answers++;  // a page's suggestions are not a search: no label there
      var link = el("a", { href: hit.url, "class": "kbw-result", lang: hit.lang, "data-rank": index + 1 }, [
        el("span", { "class": "kbw-result-title", text: hit.title }),
        hit.section ? el("span", { "class": "kbw-result-section", text: hit.section }) : null,
        hit.snippet ? el("span", { "class": "kbw-result-snippet", text: hit.snippet }) : null]);
      link.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button) return;
        event.preventDefault();
        if (isPage || searchId || !lastQuery) return openArticle(hit.slug, isPage ? null : index + 1, hit.anchor);
        // Opened before the pause that counts the search: count it now, so the click counts too.
        clearTimeout(recordTimer);
        get("search", { q: lastQuery, lang: cfg.lang, record: "1" }).then(function (body) { searchId = body.search_id; },
          function () { /* the article still opens */ }).then(function () { openArticle(hit.slug, index + 1, hit.anchor); });
      });
      list.appendChild(el("li", {}, [link]));
    });
    heading.hidden = isPage && !results.length;
    if (isPage) say("");
    else say(results.length ? S.count.replace("{count}", answers) : S.none);
  }

  function onInputKey(event) {
    if (event.key === "ArrowDown" && list.firstChild) { event.preventDefault(); list.querySelector("a").focus(); }
    if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(timer);
      clearTimeout(recordTimer);
      if (input.value.trim().length >= 2) search(input.value.trim(), true);
    }
  }

  function onListKey(event) {
    var links = Array.prototype.slice.call(list.querySelectorAll("a"));
    var at = links.indexOf(shadow.activeElement);
    var to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: links.length - 1 }[event.key];
    if (to === undefined || at < 0) return;
    event.preventDefault();
    if (to < 0) input.focus(); else if (links[to]) links[to].focus();
  }

  // -- an article inside the widget --------------------------------------------------------

  function openArticle(slug, rank, anchor) {
    var params = { lang: cfg.lang };
    if (rank && searchId) { params.sid = searchId; params.rank = rank; }
    say(S.loading);
    get("articles/" + encodeURIComponent(slug), params).then(function (article) {
      current = article;
      showArticle(article, anchor);
    }, function () { say(S.error); });
  }

  function showArticle(article, anchor) {
    var back = el("button", { type: "button", "class": "kbw-back", text: S.back });
    back.addEventListener("click", function () { showSearch(); input.focus(); });
    var title = el("h3", { "class": "kbw-article-title", tabindex: "-1", text: article.title });
    var body = el("div", { "class": "kbw-article-body", dir: article.dir, lang: article.lang });
    article.body.forEach(function (node) { body.appendChild(tree(node)); });
    body.addEventListener("click", onArticleLink);
    var vote = el("div", { "class": "kbw-vote", role: "group", "aria-labelledby": "kbw-vote-q" }, [
      el("p", { id: "kbw-vote-q", text: S.helpful }), voteButton(article, true), voteButton(article, false)]);
    articleView.textContent = "";
    [back, title, body, el("a", { href: article.url, target: "_blank", rel: "noopener", "class": "kbw-site", text: S.openSite }),
      vote].forEach(function (node) { articleView.appendChild(node); });
    searchView.hidden = true;
    articleView.hidden = false;
    say("");
    contactLink.href = contactUrl();
    var target = anchor && byId(decoded(anchor));
    title.focus();
    if (target) target.scrollIntoView(); else articleView.parentNode.scrollTop = 0;
  }

  function decoded(text) {
    try { return decodeURIComponent(text); } catch (e) { return text; }
  }

  function byId(id) {
    return Array.prototype.filter.call(articleView.querySelectorAll("[id]"), function (node) { return node.id === id; })[0];
  }

  function tree(node) {
    if (typeof node === "string") return document.createTextNode(node);
    var element = el(node[0], node[1]);
    if (node[0] === "a" && (node[1].href || "").charAt(0) !== "#") { element.target = "_blank"; element.rel = "noopener"; }
    for (var i = 2; i < node.length; i++) element.appendChild(tree(node[i]));
    return element;
  }

  function onArticleLink(event) {
    var link = event.target.closest && event.target.closest("a");
    if (!link) return;
    var href = link.getAttribute("href") || "";
    if (href.charAt(0) === "#") {
      event.preventDefault();
      var target = byId(decoded(href.slice(1)));
      if (target) target.scrollIntoView();
      return;
    }
    // cfg.root: the help center's root, whatever path (/en/widget.js) the tag loaded the script from.
    var articles = (cfg.root || base) + "articles/";
    var inside = href.indexOf(articles) === 0 && href.slice(articles.length).split(/[?#]/);
    if (inside && inside[0] && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      openArticle(decoded(inside[0]), null, null);
    }
  }

  function voteButton(article, helpful) {
    var button = el("button", { type: "button", "class": "kbw-vote-button", text: helpful ? S.yes : S.no });
    button.addEventListener("click", function () {
      var group = button.parentNode;
      fetch(api + "votes", {
        method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ slug: article.slug, helpful: helpful, visitor: visitor() })
      }).then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); }).then(function () {
        group.textContent = "";
        group.appendChild(el("p", { "class": "kbw-voted", role: "status", text: helpful ? S.thanks : S.sorry }));
        if (!helpful) {
          var ask = el("a", { "class": "kbw-contact kbw-contact-big", target: "_blank", rel: "noopener", href: contactUrl(), text: S.contact });
          group.appendChild(ask);
          ask.focus();
        }
      }, function () { say(S.error); });
    });
    return button;
  }

  function showSearch() {
    articleView.hidden = true;
    searchView.hidden = false;
    input.focus();
  }

  // -- start -------------------------------------------------------------------------------

  function start() {
    get("config", { lang: lang }).then(function (body) {
      cfg = body;
      S = body.strings;
      build();
    }, function (error) { warn("not available on this site (" + error.message + ")"); });
  }

  window[NAME] = Object.freeze({
    version: "1",
    open: function (text) { show(text); },
    close: function () { hide(false); },
    toggle: function () { toggle(); },
    setContext: function (text) { context = String(text || ""); pageResults = null; },
    ready: function () { return readyAt; }
  });
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
