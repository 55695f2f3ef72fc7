// Internal chat page. Everything the user or a colleague typed is inserted with textContent;
// no user string ever reaches innerHTML. Live updates come from /api/v1/events (EventSource).
"use strict";
(function () {
  const app = document.getElementById("ic-app");
  if (!app) return;
  const $ = (id) => document.getElementById(id);
  const S = JSON.parse(app.dataset.strings || "{}");
  const t = (k) => S["chat." + k] || k;
  const me = Number(app.dataset.me);
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const body = document.body.dataset;

  const st = {
    chats: [],          // list items from GET /api/v1/chats
    current: null,      // ChatView of the open chat
    messages: [],       // messages of the open chat, oldest first
    lastRead: {},       // user id -> last read message id (open chat)
    typing: {},         // user id -> {name, until}
    features: { calls: false, attachments: false },
    pending: [],        // uploaded attachments for the next message
    lastTypingSent: 0,
  };

  // ---- helpers -------------------------------------------------------------------------
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
    return e;
  }
  async function api(method, path, data) {
    const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      opts.headers["X-CSRF-Token"] = csrf;
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(data || {});
    }
    const r = await fetch(path, opts);
    if (r.status === 204) return null;
    const j = await r.json().catch(() => null);
    if (!r.ok) {
      const msg = (j && j.error && j.error.message) || r.statusText;
      const err = new Error(msg);
      err.status = r.status;
      throw err;
    }
    return j;
  }
  function fmtTime(ms) {
    const d = new Date(ms);
    const now = new Date();
    const sameDay = d.toDateString() === now.toDateString();
    return sameDay
      ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      : d.toLocaleDateString([], { day: "2-digit", month: "2-digit" }) + " " +
        d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  function debounce(fn, ms) {
    let h;
    return (...a) => { clearTimeout(h); h = setTimeout(() => fn(...a), ms); };
  }
  function memberName(id) {
    if (id === me) return t("you");
    const m = st.current && st.current.members.find((x) => x.user.id === id);
    return m ? m.user.display_name : "#" + id;
  }
  function showError(id, msg) { const e = $(id); if (e) e.textContent = msg || ""; }

  // ---- features (PBX calls, attachments) are detected from the OpenAPI document --------
  async function detectFeatures() {
    try {
      const doc = await fetch("/api/v1/openapi.json", { credentials: "same-origin" }).then((r) => r.json());
      const paths = (doc && doc.paths) || {};
      st.features.calls = !!paths["/api/v1/calls"];
      st.features.attachments = !!paths["/api/v1/attachments"];
    } catch (_) { /* keep the defaults: tel: links, no files */ }
  }

  // ---- chat list -----------------------------------------------------------------------
  async function loadList() {
    st.chats = await api("GET", "/api/v1/chats");
    renderList();
  }
  const refreshList = debounce(() => loadList().catch(() => {}), 150);

  function renderList() {
    const ul = $("ic-list");
    ul.replaceChildren();
    if (!st.chats.length) ul.append(el("li", { class: "ic-none", text: t("no_chats") }));
    let total = 0, dot = false;
    for (const c of st.chats) {
      const active = st.current && st.current.chat.id === c.id;
      const badge = c.unread > 0
        ? (c.muted && !c.mentioned
          ? el("span", { class: "ic-dot", title: t("muted"), "aria-label": t("muted") })
          : el("span", { class: "ic-count" + (c.mentioned ? " ic-at" : ""), text: (c.mentioned ? "@ " : "") + (c.unread >= 100 ? "99+" : String(c.unread)) }))
        : null;
      if (c.unread > 0) { if (c.muted && !c.mentioned) dot = true; else total += c.unread; }
      const last = c.last_message
        ? (c.kind === "group" && c.last_message.author_name ? (c.last_message.author_id === me ? t("you") : c.last_message.author_name) + ": " : "") + c.last_message.preview
        : "";
      const li = el("li", {
        class: "ic-item" + (active ? " ic-active" : "") + (c.unread ? " ic-unread" : ""),
        "data-chat-id": c.id, "data-pinned": String(c.pinned), "data-muted": String(c.muted),
        tabindex: 0,
        onclick: () => openChat(c.id, true),
        onkeydown: (e) => { if (e.key === "Enter") openChat(c.id, true); },
        oncontextmenu: (e) => { e.preventDefault(); contextMenu(e, c); },
      },
      el("span", { class: "ic-avatar" + (c.kind === "group" ? " ic-group" : ""), text: (c.name || "?").trim().charAt(0).toUpperCase() }),
      el("span", { class: "ic-item-main" },
        el("span", { class: "ic-item-top" },
          el("span", { class: "ic-name", text: c.name }),
          c.pinned ? el("span", { class: "ic-flag", title: t("pinned"), text: "📌" }) : null,
          c.muted ? el("span", { class: "ic-flag", title: t("muted"), text: "🔇" }) : null,
          el("span", { class: "ic-time", text: c.last_message ? fmtTime(c.last_message.at) : "" })),
        el("span", { class: "ic-item-bottom" },
          el("span", { class: "ic-preview", text: last }),
          badge)));
      ul.append(li);
    }
    const nav = document.getElementById("unread-internal");
    if (nav) {
      nav.hidden = !(total || dot);
      nav.textContent = total ? String(total) : "•";
    }
    document.title = (total ? "(" + total + ") " : "") + document.title.replace(/^\(\d+\) /, "");
  }

  function contextMenu(e, c) {
    closeMenus();
    const m = el("ul", { class: "ic-menu", role: "menu", style: "left:" + e.clientX + "px;top:" + e.clientY + "px" },
      el("li", { role: "menuitem", tabindex: 0, text: c.pinned ? t("unpin") : t("pin"), onclick: () => setState(c.id, { pinned: !c.pinned }) }),
      el("li", { role: "menuitem", tabindex: 0, text: c.muted ? t("unmute") : t("mute"), onclick: () => setState(c.id, { muted: !c.muted }) }));
    document.body.append(m);
  }
  function closeMenus() { document.querySelectorAll(".ic-menu").forEach((m) => m.remove()); }
  document.addEventListener("click", closeMenus);

  async function setState(id, patch) {
    try { await api("PATCH", "/api/v1/chats/" + id + "/state", patch); } catch (e) { showError("ic-error", e.message); }
    await loadList();
    if (st.current && st.current.chat.id === id) {
      const c = st.chats.find((x) => x.id === id);
      if (c) { st.current.chat.pinned = c.pinned; st.current.chat.muted = c.muted; renderHead(); }
    }
  }

  // ---- search: colleagues (start a 1:1) and messages ----------------------------------
  const runFind = debounce(async () => {
    const q = $("ic-find").value.trim();
    const box = $("ic-found");
    if (!q) { box.hidden = true; box.replaceChildren(); return; }
    const [people, found] = await Promise.all([
      api("GET", "/api/v1/directory?limit=8&q=" + encodeURIComponent(q)).catch(() => []),
      q.length >= 2 ? api("GET", "/api/v1/search?limit=20&q=" + encodeURIComponent(q)).catch(() => ({ results: [] })) : { results: [] },
    ]);
    if ($("ic-find").value.trim() !== q) return;
    box.replaceChildren();
    box.append(el("h4", { text: t("colleagues") }));
    const pl = el("ul", { class: "ic-found-list ic-people-found" });
    for (const p of people) {
      pl.append(el("li", { class: "ic-person", tabindex: 0, "data-user-id": p.id, onclick: () => startDirect(p.id) },
        el("span", { class: "ic-name", text: p.display_name }),
        el("span", { class: "ic-meta", text: [p.extension, p.email].filter(Boolean).join(" · ") })));
    }
    if (!people.length) pl.append(el("li", { class: "ic-none", text: t("no_results") }));
    box.append(pl);
    box.append(el("h4", { text: t("messages") }));
    const ml = el("ul", { class: "ic-found-list ic-hits" });
    for (const h of found.results) {
      ml.append(el("li", { class: "ic-hit", tabindex: 0, "data-link": h.link, onclick: () => jump(h) },
        el("span", { class: "ic-item-top" },
          el("span", { class: "ic-name", text: h.title }),
          el("span", { class: "ic-time", text: fmtTime(h.at) })),
        el("span", { class: "ic-meta", text: h.author_name }),
        el("span", { class: "ic-snippet", text: h.snippet })));
    }
    if (!found.results.length) ml.append(el("li", { class: "ic-none", text: t("no_results") }));
    box.append(ml);
    box.hidden = false;
  }, 200);
  $("ic-find").addEventListener("input", runFind);
  $("ic-find").addEventListener("keydown", (e) => { if (e.key === "Escape") { e.target.value = ""; runFind(); } });

  function jump(h) {
    if (h.kind === "chat") {
      $("ic-find").value = ""; runFind();
      history.pushState(null, "", h.link);
      openChat(h.chat_id, false, h.message_id);
    } else {
      location.href = h.link;
    }
  }

  async function startDirect(uid) {
    try {
      const v = await api("POST", "/api/v1/chats", { user_id: uid });
      $("ic-find").value = ""; runFind();
      await loadList();
      openChat(v.chat.id, true);
    } catch (e) { showError("ic-error", e.message); }
  }

  // ---- one chat ------------------------------------------------------------------------
  async function openChat(id, push, focusMsg) {
    let v;
    try { v = await api("GET", "/api/v1/chats/" + id); } catch (e) {
      if (e.status === 404) { closeChat(); history.replaceState(null, "", "/chat/internal"); }
      return;
    }
    if (push) history.pushState(null, "", "/chat/internal/" + id);
    st.current = v;
    st.typing = {};
    st.lastRead = {};
    for (const m of v.members) st.lastRead[m.user.id] = m.last_read;
    st.messages = await api("GET", "/api/v1/chats/" + id + "/messages?limit=50");
    $("ic-older").hidden = st.messages.length < 50;
    st.pending = []; renderPending();
    $("ic-empty").hidden = true;
    $("ic-chat").hidden = false;
    $("ic-panel").hidden = true;
    showError("ic-error", "");
    renderHead();
    renderMessages();
    renderList();
    if (focusMsg) await focusMessage(focusMsg); else scrollBottom();
    markRead();
    $("ic-input").focus();
  }
  function closeChat() {
    st.current = null;
    $("ic-chat").hidden = true;
    $("ic-panel").hidden = true;
    $("ic-empty").hidden = false;
    renderList();
  }

  async function reloadView() {
    if (!st.current) return;
    try {
      const v = await api("GET", "/api/v1/chats/" + st.current.chat.id);
      st.current = v;
      for (const m of v.members) st.lastRead[m.user.id] = Math.max(st.lastRead[m.user.id] || 0, m.last_read);
      renderHead(); renderMessages(false); if (!$("ic-panel").hidden) renderPanel();
    } catch (e) { if (e.status === 404) closeChat(); }
  }

  function renderHead() {
    const c = st.current.chat;
    $("ic-title").textContent = c.name;
    $("ic-sub").textContent = c.kind === "group"
      ? c.member_count + " " + t("members_count")
      : (c.other ? [c.other.extension, c.other.email].filter(Boolean).join(" · ") : "");
    const call = $("ic-call");
    const ext = c.kind === "direct" && c.other && c.other.extension;
    call.hidden = !ext;
    if (ext) call.href = "tel:" + ext;
    $("ic-pin").setAttribute("aria-pressed", String(c.pinned));
    $("ic-pin").title = c.pinned ? t("unpin") : t("pin");
    $("ic-mute").setAttribute("aria-pressed", String(c.muted));
    $("ic-mute").textContent = c.muted ? "🔇" : "🔔";
    $("ic-mute").title = c.muted ? t("unmute") : t("mute");
    $("ic-settings").hidden = c.kind !== "group";
    $("ic-attach").hidden = false;
  }

  function messageText(m) {
    // Mentions of members are highlighted; everything stays text nodes.
    const span = el("div", { class: "ic-text" });
    const names = new Set((st.current ? st.current.members : []).map((x) => x.user.username.toLowerCase()));
    const re = /(^|[\s([{"'])@([A-Za-z0-9._@-]+)/g;
    let last = 0, mm;
    while ((mm = re.exec(m.text))) {
      let word = mm[2];
      while (/[.\-@]$/.test(word)) word = word.slice(0, -1);
      if (!names.has(word.toLowerCase())) continue;
      const start = mm.index + mm[1].length;
      span.append(document.createTextNode(m.text.slice(last, start)));
      span.append(el("span", { class: "ic-mention", text: "@" + word }));
      last = start + 1 + word.length;
    }
    span.append(document.createTextNode(m.text.slice(last)));
    return span;
  }

  function renderMessage(m) {
    const mine = m.author === me;
    const group = st.current.chat.kind === "group";
    const files = m.files && m.files.length
      ? el("ul", { class: "ic-files" }, ...m.files.map((f) => el("li", {},
        el("a", { href: "/api/v1/attachments/" + f.attachment_id, target: "_blank", rel: "noopener", text: "📎 " + f.name }),
        el("span", { class: "ic-meta", text: " " + Math.max(1, Math.round(f.size / 1024)) + " KB" }))))
      : null;
    return el("li", { id: "m" + m.id, class: "ic-msg" + (mine ? " ic-mine" : "") + (m.mentions.includes(me) ? " ic-mentions-me" : ""), "data-id": m.id },
      group && !mine ? el("span", { class: "ic-author", text: memberName(m.author) }) : null,
      m.text ? messageText(m) : null,
      files,
      el("span", { class: "ic-time", text: fmtTime(m.created) }));
  }

  function renderMessages(keepScroll) {
    const ol = $("ic-messages");
    const sc = $("ic-scroll");
    const atBottom = sc.scrollHeight - sc.scrollTop - sc.clientHeight < 40;
    ol.replaceChildren(...st.messages.map(renderMessage));
    renderReadState();
    if (keepScroll !== false && atBottom) scrollBottom();
  }

  // "Read by": under the newest message of mine, the members who have read it.
  function renderReadState() {
    document.querySelectorAll(".ic-readby").forEach((e) => e.remove());
    if (!st.current) return;
    const mine = st.messages.filter((m) => m.author === me);
    const lastMine = mine[mine.length - 1];
    if (!lastMine) return;
    const readers = st.current.members
      .filter((x) => x.user.id !== me && (st.lastRead[x.user.id] || 0) >= lastMine.id)
      .map((x) => x.user.display_name);
    if (!readers.length) return;
    const text = st.current.chat.kind === "direct" ? t("seen") : t("read_by") + " " + readers.join(", ");
    const li = $("m" + lastMine.id);
    if (li) li.append(el("span", { class: "ic-readby", text: "✓✓ " + text }));
  }

  function scrollBottom() { const sc = $("ic-scroll"); sc.scrollTop = sc.scrollHeight; }

  async function loadOlder() {
    if (!st.current || !st.messages.length) return false;
    const id = st.current.chat.id;
    const older = await api("GET", "/api/v1/chats/" + id + "/messages?limit=50&before=" + st.messages[0].id);
    if (!st.current || st.current.chat.id !== id) return false;
    const sc = $("ic-scroll");
    const h = sc.scrollHeight;
    st.messages = older.concat(st.messages);
    $("ic-older").hidden = older.length < 50;
    renderMessages(false);
    sc.scrollTop = sc.scrollHeight - h;
    return older.length > 0;
  }
  $("ic-older").addEventListener("click", loadOlder);

  async function focusMessage(id) {
    for (let i = 0; i < 40 && !$("m" + id); i++) {
      if (!(await loadOlder())) break;
    }
    const li = $("m" + id);
    if (li) {
      li.scrollIntoView({ block: "center" });
      li.classList.add("ic-flash");
      setTimeout(() => li.classList.remove("ic-flash"), 2500);
    }
  }

  const markRead = debounce(async () => {
    if (!st.current || document.hidden || !st.messages.length) return;
    const c = st.chats.find((x) => x.id === st.current.chat.id);
    const newest = st.messages[st.messages.length - 1].id;
    if (c && c.last_read >= newest && !c.unread) return;
    try { await api("POST", "/api/v1/chats/" + st.current.chat.id + "/read", {}); } catch (_) { /* next time */ }
  }, 300);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) markRead(); });
  window.addEventListener("focus", markRead);

  $("ic-pin").addEventListener("click", () => st.current && setState(st.current.chat.id, { pinned: !st.current.chat.pinned }));
  $("ic-mute").addEventListener("click", () => st.current && setState(st.current.chat.id, { muted: !st.current.chat.muted }));
  $("ic-call").addEventListener("click", async (e) => {
    if (!st.features.calls || !st.current || !st.current.chat.other) return; // plain tel: link
    e.preventDefault();
    try { await api("POST", "/api/v1/calls", { to_user_id: st.current.chat.other.id }); }
    catch (_) { location.href = $("ic-call").href; }
  });

  // ---- composer ------------------------------------------------------------------------
  const input = $("ic-input");
  function autoGrow() { input.style.height = "auto"; input.style.height = Math.min(input.scrollHeight, 160) + "px"; }

  async function sendMessage() {
    if (!st.current) return;
    const text = input.value;
    if (!text.trim() && !st.pending.length) return;
    showError("ic-error", "");
    $("ic-send").disabled = true;
    try {
      const m = await api("POST", "/api/v1/chats/" + st.current.chat.id + "/messages", {
        text, attachment_ids: st.pending.map((p) => p.id),
      });
      input.value = ""; autoGrow();
      st.pending = []; renderPending();
      addMessage(m);
    } catch (e) {
      showError("ic-error", e.message);
    } finally {
      $("ic-send").disabled = false;
      input.focus();
    }
  }
  $("ic-composer").addEventListener("submit", (e) => { e.preventDefault(); sendMessage(); });
  input.addEventListener("keydown", (e) => {
    if (mentionKey(e)) return;
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendMessage(); }
  });
  input.addEventListener("input", () => {
    autoGrow();
    updateMentions();
    const now = Date.now();
    if (st.current && input.value.trim() && now - st.lastTypingSent > 3000) {
      st.lastTypingSent = now;
      api("POST", "/api/v1/chats/" + st.current.chat.id + "/typing", {}).catch(() => {});
    }
  });

  // @mention autocomplete (groups): the word before the caret starting with "@".
  let mentionSel = 0;
  function mentionQuery() {
    const before = input.value.slice(0, input.selectionStart);
    const m = /(^|[\s([{"'])@([A-Za-z0-9._@-]*)$/.exec(before);
    return m ? m[2].toLowerCase() : null;
  }
  function mentionCandidates(q) {
    if (!st.current || st.current.chat.kind !== "group") return [];
    return st.current.members.filter((x) => x.user.id !== me &&
      (x.user.username.toLowerCase().startsWith(q) || x.user.display_name.toLowerCase().includes(q))).slice(0, 8);
  }
  function updateMentions() {
    const box = $("ic-mentions");
    const q = mentionQuery();
    const cands = q === null ? [] : mentionCandidates(q);
    if (!cands.length) { box.hidden = true; box.replaceChildren(); return; }
    mentionSel = Math.min(mentionSel, cands.length - 1);
    box.replaceChildren(...cands.map((x, i) => el("li", {
      role: "option", class: "ic-mention-opt" + (i === mentionSel ? " ic-sel" : ""), "data-username": x.user.username,
      onmousedown: (e) => { e.preventDefault(); pickMention(x.user.username); },
    }, el("span", { class: "ic-name", text: x.user.display_name }), el("span", { class: "ic-meta", text: " @" + x.user.username }))));
    box.hidden = false;
  }
  function pickMention(username) {
    const pos = input.selectionStart;
    const before = input.value.slice(0, pos).replace(/@([A-Za-z0-9._@-]*)$/, "@" + username + " ");
    input.value = before + input.value.slice(pos);
    input.selectionStart = input.selectionEnd = before.length;
    $("ic-mentions").hidden = true;
    input.focus();
  }
  function mentionKey(e) {
    const box = $("ic-mentions");
    if (box.hidden) return false;
    const opts = box.querySelectorAll("li");
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      mentionSel = (mentionSel + (e.key === "ArrowDown" ? 1 : opts.length - 1)) % opts.length;
      updateMentions();
      return true;
    }
    if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      const o = opts[mentionSel];
      if (o) pickMention(o.dataset.username);
      return true;
    }
    if (e.key === "Escape") { box.hidden = true; return true; }
    return false;
  }

  // Emoji
  const EMOJI = "😀 😂 😊 😍 😉 😎 🤔 😅 😢 😮 🙏 👍 👎 👏 🙌 💪 🎉 ✅ ❌ ⚠️ ❤️ 🔥 ☕ 📞".split(" ");
  $("ic-emoji-panel").append(...EMOJI.map((e) => el("button", { type: "button", class: "ic-emo", text: e, onclick: () => { insertText(e); $("ic-emoji-panel").hidden = true; } })));
  $("ic-emoji").addEventListener("click", (e) => { e.stopPropagation(); $("ic-emoji-panel").hidden = !$("ic-emoji-panel").hidden; });
  document.addEventListener("click", (e) => { if (!e.target.closest("#ic-emoji-panel, #ic-emoji")) $("ic-emoji-panel").hidden = true; });
  function insertText(s) {
    const a = input.selectionStart, b = input.selectionEnd;
    input.value = input.value.slice(0, a) + s + input.value.slice(b);
    input.selectionStart = input.selectionEnd = a + s.length;
    input.focus();
  }

  // Files: upload first (progress bar), then send their ids with the message.
  $("ic-attach").addEventListener("click", () => {
    if (!st.features.attachments) { showError("ic-error", t("files_unavailable")); return; }
    $("ic-file").click();
  });
  $("ic-file").addEventListener("change", (e) => { uploadAll(e.target.files); e.target.value = ""; });
  const dropZone = $("ic-chat");
  dropZone.addEventListener("dragover", (e) => { e.preventDefault(); dropZone.classList.add("ic-drop"); });
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("ic-drop"));
  dropZone.addEventListener("drop", (e) => {
    e.preventDefault();
    dropZone.classList.remove("ic-drop");
    if (!st.features.attachments) { showError("ic-error", t("files_unavailable")); return; }
    uploadAll(e.dataTransfer.files);
  });
  async function uploadAll(files) {
    for (const f of files) {
      try { st.pending.push(await upload(f)); renderPending(); } catch (e) { showError("ic-error", e.message); }
    }
  }
  function upload(file) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const bar = $("ic-progress");
      xhr.open("POST", "/api/v1/attachments?scope=internal");
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("X-Filename", encodeURIComponent(file.name));
      xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) { bar.hidden = false; bar.value = Math.round(100 * e.loaded / e.total); } };
      xhr.onload = () => {
        bar.hidden = true;
        let j = null;
        try { j = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300 && j) resolve(j);
        else reject(new Error((j && j.error && j.error.message) || xhr.statusText));
      };
      xhr.onerror = () => { bar.hidden = true; reject(new Error("upload failed")); };
      xhr.send(file);
    });
  }
  function renderPending() {
    $("ic-pending").replaceChildren(...st.pending.map((p, i) => el("span", { class: "ic-chip" },
      el("span", { text: "📎 " + p.name }),
      el("button", { type: "button", class: "ic-icon", text: "✕", onclick: () => { st.pending.splice(i, 1); renderPending(); } }))));
  }

  // ---- group settings panel ------------------------------------------------------------
  $("ic-settings").addEventListener("click", () => { $("ic-panel").hidden = !$("ic-panel").hidden; if (!$("ic-panel").hidden) renderPanel(); });
  $("ic-panel-close").addEventListener("click", () => { $("ic-panel").hidden = true; });
  function renderPanel() {
    const v = st.current;
    if (!v) return;
    const admin = v.chat.is_admin;
    $("ic-rename").hidden = !admin;
    $("ic-rename-input").value = v.chat.name;
    $("ic-add").hidden = !admin;
    showError("ic-panel-error", "");
    $("ic-members").replaceChildren(...v.members.map((m) => el("li", { class: "ic-member", "data-user-id": m.user.id },
      el("span", { class: "ic-name", text: m.user.display_name + (m.user.id === me ? " (" + t("you") + ")" : "") }),
      m.admin ? el("span", { class: "ic-tag", text: t("admin") }) : null,
      admin && m.user.id !== me && !m.admin ? el("button", { type: "button", class: "ic-small", text: t("make_admin"), onclick: () => panelOp("POST", "/admins", { user_id: m.user.id }) }) : null,
      admin && m.user.id !== me ? el("button", { type: "button", class: "ic-small ic-danger", text: t("remove"), onclick: () => panelOp("DELETE", "/members/" + m.user.id) }) : null)));
  }
  async function panelOp(method, suffix, data) {
    try {
      await api(method, "/api/v1/chats/" + st.current.chat.id + suffix, data);
      await reloadView();
    } catch (e) { showError("ic-panel-error", e.message); }
  }
  $("ic-rename").addEventListener("submit", (e) => { e.preventDefault(); panelOp("PATCH", "", { name: $("ic-rename-input").value }); });
  $("ic-leave").addEventListener("click", async () => {
    try {
      await api("POST", "/api/v1/chats/" + st.current.chat.id + "/leave", {});
      history.pushState(null, "", "/chat/internal");
      closeChat(); loadList();
    } catch (e) { showError("ic-panel-error", e.message); }
  });
  $("ic-add-find").addEventListener("input", debounce(async () => {
    const q = $("ic-add-find").value.trim();
    const ul = $("ic-add-found");
    if (!q) { ul.replaceChildren(); return; }
    const people = await api("GET", "/api/v1/directory?limit=8&q=" + encodeURIComponent(q)).catch(() => []);
    const ids = new Set(st.current.members.map((m) => m.user.id));
    ul.replaceChildren(...people.filter((p) => !ids.has(p.id)).map((p) => el("li", { class: "ic-person", tabindex: 0, onclick: async () => {
      await panelOp("POST", "/members", { user_ids: [p.id] });
      $("ic-add-find").value = ""; ul.replaceChildren();
    } }, el("span", { class: "ic-name", text: p.display_name }), el("span", { class: "ic-meta", text: " " + (p.extension || "") }))));
  }, 200));

  // ---- new group dialog ----------------------------------------------------------------
  const dlg = $("ic-group-dialog");
  let everyone = [];
  const chosen = new Set();
  $("ic-new-group").addEventListener("click", async () => {
    everyone = await api("GET", "/api/v1/directory?limit=500").catch(() => []);
    chosen.clear();
    $("ic-group-name").value = "";
    $("ic-group-filter").value = "";
    showError("ic-group-error", "");
    renderPeople();
    dlg.showModal();
  });
  $("ic-group-cancel").addEventListener("click", () => dlg.close());
  $("ic-group-filter").addEventListener("input", renderPeople);
  function renderPeople() {
    const q = $("ic-group-filter").value.trim().toLowerCase();
    const list = everyone.filter((p) => !q || p.display_name.toLowerCase().includes(q) || p.username.toLowerCase().includes(q) ||
      p.extension.includes(q) || p.email.toLowerCase().includes(q));
    $("ic-group-people").replaceChildren(...list.map((p) => {
      const cb = el("input", { type: "checkbox", value: p.id, "data-username": p.username, checked: chosen.has(p.id),
        onchange: (e) => { if (e.target.checked) chosen.add(p.id); else chosen.delete(p.id); } });
      return el("li", {}, el("label", { class: "ic-check" }, cb, el("span", { text: " " + p.display_name }),
        el("span", { class: "ic-meta", text: p.extension ? " · " + p.extension : "" })));
    }));
  }
  $("ic-group-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const v = await api("POST", "/api/v1/chats", { name: $("ic-group-name").value, member_ids: Array.from(chosen) });
      dlg.close();
      await loadList();
      openChat(v.chat.id, true);
    } catch (err) { showError("ic-group-error", err.message); }
  });

  // ---- live events ---------------------------------------------------------------------
  function addMessage(m) {
    if (!st.current || st.current.chat.id !== m.chat_id) return;
    if (st.messages.some((x) => x.id === m.id)) return;
    st.messages.push(m);
    st.lastRead[m.author] = Math.max(st.lastRead[m.author] || 0, m.id);
    delete st.typing[m.author];
    renderTyping();
    renderMessages();
  }

  function notify(chat, m) {
    if (m.author === me) return;
    const mentioned = m.mentions.includes(me);
    const item = st.chats.find((c) => c.id === chat);
    const muted = item ? item.muted : false;
    if (muted && !mentioned) return;                       // a mention notifies even when muted
    const viewing = st.current && st.current.chat.id === chat && !document.hidden;
    if (viewing && !mentioned) return;
    const title = (item ? item.name : t("new_message")) + (mentioned ? " — " + t("mentioned_you") : "");
    const text = m.text || (m.files[0] ? "📎 " + m.files[0].name : "");
    if (body.popups !== "false") toast(title, text, chat);
    if (body.sound !== "false") beep();
    if (body.desktop === "true" && document.hidden && "Notification" in window && Notification.permission === "granted") {
      const n = new Notification(title, { body: text.slice(0, 140), tag: "chat-" + chat });
      n.onclick = () => { window.focus(); openChat(chat, true); };
    }
  }
  function toast(title, text, chat) {
    const box = $("ic-toasts");
    const tEl = el("div", { class: "ic-toast", role: "status", onclick: () => { tEl.remove(); openChat(chat, true); } },
      el("strong", { text: title }), el("span", { text: text.slice(0, 140) }));
    box.append(tEl);
    setTimeout(() => tEl.remove(), 6000);
  }
  let audio;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 880; g.gain.value = 0.05;
      o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.12);
    } catch (_) { /* no audio */ }
  }

  function renderTyping() {
    const now = Date.now();
    const names = Object.values(st.typing).filter((x) => x.until > now).map((x) => x.name);
    $("ic-typing").textContent = names.length ? names.join(", ") + " " + t("typing") : "";
  }
  setInterval(renderTyping, 1000);

  function onEvent(ev) {
    const d = ev.data || {};
    switch (ev.kind) {
      case "chat.message":
        addMessage(d.message);
        notify(d.chat_id, d.message);
        refreshList();
        if (st.current && st.current.chat.id === d.chat_id) markRead();
        break;
      case "chat.updated":
        refreshList();
        if (st.current && st.current.chat.id === d.chat_id) reloadView();
        break;
      case "chat.removed":
        refreshList();
        if (st.current && st.current.chat.id === d.chat_id) { closeChat(); history.replaceState(null, "", "/chat/internal"); }
        break;
      case "chat.read":
        if (st.current && st.current.chat.id === d.chat_id) {
          st.lastRead[d.user_id] = Math.max(st.lastRead[d.user_id] || 0, d.last_read);
          renderReadState();
        }
        if (d.user_id === me) refreshList();
        break;
      case "chat.state":
        refreshList();
        if (st.current && st.current.chat.id === d.chat_id) {
          st.current.chat.pinned = d.pinned; st.current.chat.muted = d.muted; renderHead();
        }
        break;
      case "chat.typing":
        if (st.current && st.current.chat.id === d.chat_id && d.user_id !== me) {
          st.typing[d.user_id] = { name: d.name, until: Date.now() + 5000 };
          renderTyping();
        }
        break;
      default:
        break;
    }
  }

  function connect() {
    const es = new EventSource("/api/v1/events");
    const conn = document.getElementById("conn-state");
    es.onopen = () => { if (conn) conn.hidden = true; app.dataset.live = "1"; };
    es.onmessage = (e) => { try { onEvent(JSON.parse(e.data)); } catch (_) { /* ignore */ } };
    es.addEventListener("reset", () => { loadList(); reloadView(); });
    es.onerror = () => { if (conn) conn.hidden = false; app.dataset.live = "0"; };
  }

  window.addEventListener("popstate", () => {
    const m = /^\/chat\/internal\/(\d+)/.exec(location.pathname);
    if (m) openChat(Number(m[1]), false, Number((location.hash.match(/^#m(\d+)/) || [])[1]) || undefined);
    else closeChat();
  });

  // ---- start ---------------------------------------------------------------------------
  (async function start() {
    connect();
    await Promise.all([detectFeatures(), loadList()]);
    const id = Number(app.dataset.chatId);
    if (id) {
      const hm = /^#m(\d+)/.exec(location.hash);
      await openChat(id, false, hm ? Number(hm[1]) : undefined);
    }
    app.dataset.ready = "1";
  })();
})();
