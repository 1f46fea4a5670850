/* The contact page (/contact): shows the articles that answer the question while it is
   typed (GET /contact/articles), and keeps the visit's "ask" token in the form so the
   message is stored with the articles that were shown.  Without this script the form
   still works: the server shows the answers once before sending. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-contact]");
  if (!form) { return; }
  var field = form.querySelector("#contact-message");
  var askInput = form.querySelector("[data-contact-ask]");
  var section = form.querySelector("[data-contact-answers]");
  var list = form.querySelector("[data-contact-list]");
  var url = form.getAttribute("data-articles-url");
  var timer = null;
  var lastQuery = null;
  var controller = null;

  function render(articles) {
    list.textContent = "";
    articles.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "contact-article";
      var link = document.createElement("a");
      link.href = item.url;
      link.lang = item.lang;
      link.dir = item.dir;
      link.textContent = item.title;
      var snippet = document.createElement("p");
      snippet.className = "result-snippet";
      snippet.lang = item.lang;
      snippet.dir = item.dir;
      snippet.innerHTML = item.snippet; /* escaped by the server; only <mark> inside */
      li.appendChild(link);
      li.appendChild(snippet);
      list.appendChild(li);
    });
    section.hidden = articles.length === 0;
  }

  function lookUp() {
    var query = field.value.trim();
    if (query === lastQuery) { return; }
    lastQuery = query;
    if (query.length < 3) { render([]); return; }
    if (controller) { controller.abort(); }
    controller = typeof AbortController === "function" ? new AbortController() : null;
    var params = new URLSearchParams({
      q: query.slice(0, 500), ask: askInput.value, lang: form.elements.lang.value, source: form.elements.source.value
    });
    fetch(url + "?" + params.toString(), { headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (data.ask) { askInput.value = data.ask; }
        render(data.articles || []);
      })
      .catch(function () { /* answers are a help, not a requirement: sending still works */ });
  }

  field.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookUp, 350);
  });
  if (field.value.trim() && !list.children.length) { lookUp(); }
  lastQuery = list.children.length ? field.value.trim() : lastQuery;
}());
