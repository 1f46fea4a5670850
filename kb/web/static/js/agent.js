/* The agent panel (/agent): suggestions for the latest customer message, inside a helpdesk.
 *
 * Where the conversation comes from, first match wins as it arrives:
 *  - Chatwoot dashboard app: a "message" event whose data is the JSON string
 *    {"event": "appContext", "data": {"conversation": {"id", "messages": [...]}, "contact": {...}}};
 *    the panel asks again with "chatwoot-dashboard-app:fetch-info" every few seconds, so new
 *    messages refresh the suggestions without a reload.
 *  - any other host: postMessage({"type": "kb:conversation", "conversation_id": "...",
 *    "messages": [{"role": "customer" | "agent", "text": "..."}], "lang": "ar"}) (an object or its JSON string);
 *  - the ?message= URL parameter, or the agent's paste.
 * Messages are taken only from the origins listed for the panel link (the same list that may frame it).
 * The token comes from the URL's fragment (#token=...): never sent to a server, never logged.
 */
(function () {
  "use strict";

  var root = document.getElementById("agent-panel");
  if (!root) return;
  var strings = JSON.parse(root.getAttribute("data-strings") || "{}");
  var origins = (root.getAttribute("data-origins") || "").split(/\s+/).filter(Boolean);
  var token = new URLSearchParams(location.hash.replace(/^#/, "")).get("token") || "";
  var statusLine = document.getElementById("panel-status");
  var contextLine = document.getElementById("panel-context");
  var list = document.getElementById("suggestions");
  var listTitle = document.getElementById("list-title");
  var template = document.getElementById("suggestion-template");
  var messageBox = document.getElementById("panel-message");
  var searchBox = document.getElementById("panel-search");
  var POLL_MS = 5000;

  var state = {conversation: "standalone", lastAsked: null, queryId: null, lang: null, usedMemory: {}};

  function say(text, isError) {
    statusLine.textContent = text || "";
    statusLine.classList.toggle("panel-status--error", !!isError);
  }

  // -- "used" marks: per conversation, kept in sessionStorage when the browser allows it ----------

  function usedKey() { return "kb-agent-used:" + state.conversation; }

  function usedSlugs() {
    try {
      return JSON.parse(sessionStorage.getItem(usedKey()) || "[]");
    } catch (e) {
      return state.usedMemory[usedKey()] || [];
    }
  }

  function markUsed(slug, item) {
    var slugs = usedSlugs();
    if (slugs.indexOf(slug) < 0) slugs.push(slug);
    try { sessionStorage.setItem(usedKey(), JSON.stringify(slugs)); } catch (e) { state.usedMemory[usedKey()] = slugs; }
    item.classList.add("suggestion--used");
    item.querySelector(".badge--used").hidden = false;
  }

  // -- talking to the help center -----------------------------------------------------------------

  function call(url, options) {
    options = options || {};
    options.headers = Object.assign({"Authorization": "Bearer " + token}, options.headers || {});
    options.credentials = "omit";
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          var error = new Error((body.error && body.error.message) || strings.failed);
          error.status = response.status;
          throw error;
        }
        return body;
      });
    });
  }

  function failed(error) {
    say(error.status === 401 ? strings.bad_token : (error.status ? error.message : strings.failed), true);
  }

  function suggest(message, earlier) {
    state.lastAsked = state.conversation + "\n" + message;
    messageBox.value = message;
    say(strings.loading);
    var body = {message: message, conversation: earlier || []};
    if (state.lang) body.lang = state.lang;
    return call(root.getAttribute("data-suggest-url"), {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)
    }).then(function (result) {
      state.queryId = result.query_id;
      render(result.suggestions, titled(strings.suggestions_for, result), true);
      say(result.suggestions.length ? "" : strings.no_answer);
    }).catch(failed);
  }

  // The list's title says what was searched when it is not what the agent sent: a misspelt
  // English message corrected ("angry custmer"), an Arabizi one read in Arabic letters.
  function titled(title, result) {
    var searched = result.corrected || result.read_as;
    return searched ? strings.searched_as.replace("{title}", title).replace("{text}", searched) : title;
  }

  function search(query) {
    say(strings.searching);
    var url = root.getAttribute("data-search-url") + "?q=" + encodeURIComponent(query);
    return call(url).then(function (result) {
      render(result.results, titled(strings.results_for, result), false);
      say(result.results.length ? "" : strings.no_results);
    }).catch(failed);
  }

  function sendFeedback(slug, useful, item) {
    return call(root.getAttribute("data-feedback-url"), {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({query_id: item.getAttribute("data-query-id"), slug: slug, useful: useful})
    }).then(function () {
      item.querySelector('[data-action="helped"]').setAttribute("aria-pressed", String(useful));
      item.querySelector('[data-action="not-helped"]').setAttribute("aria-pressed", String(!useful));
      say(strings.thanks);
    }).catch(failed);
  }

  // -- the list -------------------------------------------------------------------------------------

  function plainText(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;  // the server's snippet: escaped text with <mark> only
    return (holder.textContent || "").replace(/\s+/g, " ").trim();
  }

  function answerText(hit) {
    return hit.faq && hit.faq.a ? hit.faq.a : plainText(hit.snippet || "");
  }

  function render(hits, title, withFeedback) {
    list.textContent = "";
    listTitle.textContent = title;
    listTitle.hidden = false;
    var used = usedSlugs();
    hits.forEach(function (hit) {
      var item = template.content.firstElementChild.cloneNode(true);
      item.setAttribute("data-slug", hit.slug);
      if (state.queryId && withFeedback) item.setAttribute("data-query-id", state.queryId);
      var link = hit.section_url || hit.url;
      var titleLink = item.querySelector(".suggestion-title");
      titleLink.textContent = hit.title;
      titleLink.href = link;
      item.querySelector('[data-action="open"]').href = link;
      if (hit.section) {
        item.querySelector(".suggestion-section").textContent = hit.section;
        item.querySelector(".suggestion-section").hidden = false;
      }
      if (hit.faq) {
        item.querySelector(".faq-q").textContent = hit.faq.q;
        item.querySelector(".faq-a").textContent = hit.faq.a;
        item.querySelector(".suggestion-faq").hidden = false;
      } else {
        item.querySelector(".suggestion-passage").innerHTML = hit.snippet || "";
      }
      if (hit.internal) {
        item.classList.add("suggestion--internal");
        item.querySelector(".badge--internal").hidden = false;
        item.querySelector(".suggestion-internal-note").hidden = false;
      }
      if (hit.related) {
        item.classList.add("suggestion--related");
        item.querySelector(".badge--related").hidden = false;
      }
      if (!withFeedback) item.querySelector(".suggestion-feedback").hidden = true;
      if (used.indexOf(hit.slug) >= 0) {
        item.classList.add("suggestion--used");
        item.querySelector(".badge--used").hidden = false;
      }
      item._hit = hit;
      list.appendChild(item);
    });
  }

  function copy(text) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text).catch(function () { return copyByCommand(text); });
    }
    return copyByCommand(text);
  }

  function copyByCommand(text) {
    // A frame without the clipboard-write permission still may copy on a click this way.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    area.remove();
    return done ? Promise.resolve() : Promise.reject(new Error("copy"));
  }

  list.addEventListener("click", function (event) {
    var control = event.target.closest("[data-action]");
    var item = control && control.closest(".suggestion");
    if (!item || !item._hit) return;
    var hit = item._hit;
    var action = control.getAttribute("data-action");
    if (action === "copy-answer" || action === "copy-link") {
      copy(action === "copy-answer" ? answerText(hit) : (hit.section_url || hit.url)).then(function () {
        markUsed(hit.slug, item);
        say(strings.copied);
      }, function () { say(strings.copy_failed, true); });
    } else if (action === "open") {
      markUsed(hit.slug, item);
    } else if (action === "helped" || action === "not-helped") {
      sendFeedback(hit.slug, action === "helped", item);
    }
  });

  // -- where the conversation comes from ---------------------------------------------------------------

  function takeConversation(conversationId, messages, label) {
    // messages: [{role, text}] oldest first; the latest customer message is what is asked.
    var latest = -1;
    for (var i = messages.length - 1; i >= 0; i--) {
      if (messages[i].role === "customer" && messages[i].text.trim()) { latest = i; break; }
    }
    if (latest < 0) return;
    state.conversation = String(conversationId || "standalone");
    contextLine.textContent = label || "";
    var message = messages[latest].text;
    if (state.lastAsked === state.conversation + "\n" + message) return;  // nothing new
    suggest(message, messages.slice(0, latest));
  }

  function fromChatwoot(data) {
    var conversation = (data && data.conversation) || {};
    var contact = (data && data.contact) || {};
    var messages = (conversation.messages || []).slice().sort(function (a, b) {
      return (a.created_at || 0) - (b.created_at || 0);
    }).filter(function (m) {
      // message_type: 0 incoming (the contact), 1 outgoing (agents, bots); 2 activity and 3 template are not talk.
      return !m.private && (m.message_type === 0 || m.message_type === 1 || m.message_type === "incoming" ||
                            m.message_type === "outgoing") && typeof m.content === "string";
    }).map(function (m) {
      var incoming = m.message_type === 0 || m.message_type === "incoming";
      return {role: incoming ? "customer" : "agent", text: m.content};
    });
    var label = strings.conversation + " #" + (conversation.id || "") + (contact.name ? " · " + contact.name : "");
    takeConversation("chatwoot:" + (conversation.id || ""), messages, label);
  }

  function fromHost(data) {
    var messages = (data.messages || []).filter(function (m) {
      return m && typeof m.text === "string";
    }).map(function (m) {
      return {role: m.role === "agent" || m.role === "bot" ? "agent" : "customer", text: m.text};
    });
    if (typeof data.message === "string" && data.message.trim()) messages.push({role: "customer", text: data.message});
    if (data.lang === "ar" || data.lang === "en") state.lang = data.lang;
    takeConversation(data.conversation_id || "host", messages, data.label || "");
  }

  window.addEventListener("message", function (event) {
    if (origins.indexOf(event.origin) < 0 || event.source !== window.parent) return;
    var data = event.data;
    if (typeof data === "string") {
      try { data = JSON.parse(data); } catch (e) { return; }
    }
    if (!data || typeof data !== "object") return;
    if (data.event === "appContext") fromChatwoot(data.data);
    else if (data.type === "kb:conversation") fromHost(data);
  });

  function askHost() {
    if (window.parent === window || document.hidden) return;
    origins.forEach(function (origin) {
      window.parent.postMessage("chatwoot-dashboard-app:fetch-info", origin);
    });
  }

  document.getElementById("message-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var message = messageBox.value.trim();
    if (message) {
      state.lastAsked = null;
      suggest(message, []);
    }
  });

  document.getElementById("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var query = searchBox.value.trim();
    if (query) search(query);
  });

  if (!token) {
    say(strings.no_token, true);
    Array.prototype.forEach.call(root.querySelectorAll("button, textarea, input"), function (el) { el.disabled = true; });
    return;
  }
  var lang = new URLSearchParams(location.search).get("lang");
  if (lang === "ar" || lang === "en") state.lang = lang;
  var fromUrl = root.getAttribute("data-message");
  if (fromUrl && fromUrl.trim()) takeConversation("url", [{role: "customer", text: fromUrl}], "");
  askHost();
  setInterval(askHost, POLL_MS);
})();
