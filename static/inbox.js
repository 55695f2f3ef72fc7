"use strict";
// The external-chat inbox: session list + session view, driven by the JSON API and the live
// event stream (see app.js for SB.*). All user content goes in through textContent (SB.h).
(function () {
  const SB = window.SB;
  const root = document.getElementById("inbox");
  if (!SB || !root) return;
  const h = SB.h;
  const t = SB.t;
  const $ = (sel, el) => (el || document).querySelector(sel);

  let icons = {};
  try {
    icons = JSON.parse(root.dataset.icons || "{}");
  } catch (_) {
    icons = {};
  }
  const me = Number(root.dataset.me || SB.me);
  const S = {
    scope: root.dataset.scope || "all",
    channel: ($("#channel-filter") || {}).value || "",
    sort: "activity",
    next: root.dataset.next || "",
    rows: new Map(),
    current: null,
    detail: null,
    messages: new Map(),
    users: new Map(),
    mode: "reply",
    pending: [],
    templates: null,
    showDetails: false,
  };
  const listEl = $("#session-list");
  const pane = $("#session-pane");
  SB.inbox = S;

  // ---------------------------------------------------------------- helpers
  function userName(id) {
    if (!id) return "";
    if (id === me) return t("inbox.you");
    const u = S.users.get(id);
    return u ? u.display_name : "#" + id;
  }
  function kindName(k) {
    return t("ch." + k);
  }
  function iconImg(kind, size) {
    return h("img", { class: "ch-icon", src: icons[kind] || "", alt: kindName(kind), title: kindName(kind), width: size, height: size });
  }
  function showError(where, err) {
    const msg = err && err.status === 404 && err.code === "not_found" && /route/i.test(err.message || "")
      ? t("inbox.not_available")
      : (err && err.message) || t("inbox.error");
    if (where) {
      where.textContent = msg;
      where.hidden = false;
    } else {
      SB.toast(t("inbox.error"), msg, { kind: "error" });
    }
    return msg;
  }
  function matches(s) {
    if (S.channel && String(s.channel_id) !== S.channel) return false;
    switch (S.scope) {
      case "archived":
        return s.archived;
      case "mine":
        return !s.archived && s.assignee === me;
      case "unassigned":
        return !s.archived && s.status === "open" && !s.assignee;
      default:
        return !s.archived;
    }
  }
  const visible = () => document.visibilityState === "visible";

  // ---------------------------------------------------------------- list
  function rowEl(s) {
    const badge = s.unread > 0 ? (s.muted ? h("span", { class: "dot", title: t("inbox.muted") }) : h("span", { class: "count", text: s.unread > 99 ? "99+" : s.unread })) : null;
    const cls = ["srow", s.unread > 0 ? "unread" : "", s.id === S.current ? "active" : "", s.status === "closed" ? "closed" : "", s.muted ? "muted" : ""];
    return h(
      "li",
      { class: cls.filter(Boolean).join(" "), dataset: { id: s.id } },
      h(
        "a",
        { href: "/chat/external/" + s.id },
        iconImg(s.channel_kind, 22),
        h(
          "span",
          { class: "srow-body" },
          h("span", { class: "srow-top" }, h("span", { class: "srow-name", text: s.contact_name || s.contact_address }), h("time", { dataset: { ts: s.last_activity }, text: SB.fmtRel(s.last_activity) })),
          h(
            "span",
            { class: "srow-bottom" },
            h("span", { class: "srow-preview", text: s.last_preview || "" }),
            s.assignee && S.scope !== "mine" ? h("span", { class: "owner-chip", text: userName(s.assignee) }) : null,
            badge,
          ),
        ),
      ),
    );
  }
  let listQueued = false;
  function renderList() {
    if (listQueued) return;
    listQueued = true;
    requestAnimationFrame(() => {
      listQueued = false;
      const key = S.sort === "arrival" ? "created" : "last_activity";
      const rows = Array.from(S.rows.values()).sort((a, b) => b[key] - a[key] || b.id - a.id);
      listEl.replaceChildren(...rows.map(rowEl));
      $("#list-empty").hidden = rows.length > 0;
      $("#load-more").hidden = !S.next;
    });
  }
  function remember(v) {
    const old = S.rows.get(v.id);
    if (old && (old.counted || 0) > (v.last_message_id || 0)) v.unread = old.unread;
    v.counted = Math.max(v.last_message_id || 0, (old && old.counted) || 0);
    S.rows.set(v.id, v);
    SB.notify.remember(v);
  }
  async function loadList(append) {
    const q = new URLSearchParams({ scope: S.scope, limit: "50" });
    if (S.channel) q.set("channel_id", S.channel);
    if (append && S.next) q.set("cursor", S.next);
    try {
      const page = await SB.api("GET", "/api/v1/sessions?" + q);
      if (!append) S.rows.clear();
      for (const v of page.sessions) remember(v);
      S.next = page.next_cursor || "";
      renderList();
    } catch (e) {
      showError(null, e);
    }
  }
  async function fetchRow(id) {
    try {
      const d = await SB.api("GET", "/api/v1/sessions/" + id);
      if (matches(d.session)) {
        remember(d.session);
        renderList();
      }
      return d.session;
    } catch (_) {
      return null;
    }
  }
  function syncUrl(push) {
    const q = new URLSearchParams();
    if (S.scope !== "all") q.set("scope", S.scope);
    if (S.channel) q.set("channel_id", S.channel);
    const qs = q.toString() ? "?" + q : "";
    const path = (S.current ? "/chat/external/" + S.current : "/chat/external") + qs;
    if (path === location.pathname + location.search) return;
    if (push) history.pushState({ session: S.current }, "", path);
    else history.replaceState({ session: S.current }, "", path);
  }

  // ---------------------------------------------------------------- session view
  const TICKS = { queued: "◷", unknown: "?", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "⚠" };
  function senderKey(m) {
    return m.direction + ":" + (m.author || 0);
  }
  function fileEl(f) {
    if (f.error) return h("div", { class: "file bad", text: t("inbox.file_failed") + ": " + f.name });
    if (!f.attachment_id) return h("div", { class: "file pending", text: t("inbox.file_pending") + " " + f.name });
    const url = "/api/v1/attachments/" + f.attachment_id;
    const expired = () => h("div", { class: "file expired", text: t("inbox.file_expired") + " · " + f.name });
    const mime = f.mime || "";
    let el;
    const checkGone = async (node) => {
      try {
        const r = await fetch(url, { method: "HEAD", credentials: "same-origin" });
        if (r.status === 410 || r.status === 404) node.replaceWith(expired());
      } catch (_) {
        /* keep as is */
      }
    };
    if (mime.startsWith("image/")) {
      const img = h("img", { src: url + "/thumbnail", alt: f.name, loading: "lazy" });
      el = h("a", { class: "file thumb", href: url, title: f.name }, img);
      let triedFull = false;
      img.addEventListener("error", () => {
        if (!triedFull) {
          triedFull = true;
          img.src = url;
        }
        checkGone(el);
      });
      el.addEventListener("click", (e) => {
        e.preventDefault();
        lightbox(url, f.name);
      });
      return el;
    }
    if (mime.startsWith("audio/")) el = h("audio", { class: "file media", controls: true, preload: "metadata", src: url });
    else if (mime.startsWith("video/")) el = h("video", { class: "file media", controls: true, preload: "metadata", src: url });
    else if ((mime.startsWith("text/") || mime === "application/json") && f.size <= 256 * 1024) {
      const pre = h("pre", { class: "preview", text: "…" });
      el = h("div", { class: "file textfile" }, h("a", { href: url, download: f.name, text: "📄 " + f.name + " · " + SB.fmtSize(f.size) }), pre);
      fetch(url, { credentials: "same-origin" })
        .then(async (r) => {
          if (r.status === 410 || r.status === 404) return el.replaceWith(expired());
          const txt = await r.text();
          pre.textContent = txt.length > 3000 ? txt.slice(0, 3000) + "\n…" : txt;
        })
        .catch(() => {});
      return el;
    } else el = h("a", { class: "file download", href: url, download: f.name }, h("span", { class: "file-ico", text: "📄" }), h("span", { class: "file-name", text: f.name }), h("span", { class: "file-size", text: SB.fmtSize(f.size) }));
    checkGone(el);
    return el;
  }
  function msgEl(m, showSender) {
    const cls = ["msg", m.direction, showSender ? "first" : ""].filter(Boolean).join(" ");
    let sender = null;
    if (showSender) {
      const name = m.direction === "in" ? (S.detail && S.detail.session.contact_name) || "" : userName(m.author);
      sender = h("div", { class: "sender", text: m.direction === "note" ? t("inbox.internal_note") + " · " + name : name });
    }
    const tick = m.direction === "out" ? h("span", { class: "tick " + m.status, title: t("inbox.status_" + m.status) || m.status, text: TICKS[m.status] || "" }) : null;
    const bubble = h(
      "div",
      { class: "bubble" },
      sender,
      (m.files || []).map(fileEl),
      m.template ? h("div", { class: "tpl", text: "▤ " + m.template.name + " (" + m.template.language + ")" + (m.template.params && m.template.params.length ? " · " + m.template.params.join(", ") : "") }) : null,
      m.text ? h("div", { class: "text", text: m.text }) : null,
      h("div", { class: "meta" }, h("time", { dataset: { ts: m.created }, title: SB.fmtDateTime(m.created), text: SB.fmtClock(m.created) }), tick),
    );
    const out = h("div", { class: cls, dataset: { id: m.id, status: m.status } }, bubble);
    if (m.status === "failed" || m.status === "unknown") {
      const err = h("div", { class: "fail" }, h("span", { text: "⚠ " + t("inbox.failed") + (m.error ? ": " + m.error : "") }));
      const btn = h("button", { type: "button", class: "retry" }, SB.icon("retry"), t("inbox.retry"));
      btn.addEventListener("click", async () => {
        btn.disabled = true;
        try {
          upsertMessage(await SB.api("POST", "/api/v1/messages/" + m.id + "/retry"));
        } catch (e) {
          btn.disabled = false;
          showError(null, e);
        }
      });
      err.append(btn);
      out.append(err);
    }
    return out;
  }
  function dayOf(ts) {
    const d = new Date(ts);
    return d.getFullYear() + "-" + d.getMonth() + "-" + d.getDate();
  }
  function renderMessages() {
    const box = $("#messages");
    if (!box) return;
    const list = Array.from(S.messages.values()).sort((a, b) => a.id - b.id);
    const nodes = [];
    if (S.more && list.length) {
      const more = h("button", { type: "button", class: "earlier", id: "earlier", text: t("inbox.earlier") });
      more.addEventListener("click", () => loadEarlier(list[0].id));
      nodes.push(more);
    }
    let day = "";
    let prev = "";
    for (const m of list) {
      const d = dayOf(m.created);
      if (d !== day) {
        nodes.push(h("div", { class: "day" }, h("span", { text: SB.fmtDay(m.created) })));
        day = d;
        prev = "";
      }
      nodes.push(msgEl(m, senderKey(m) !== prev));
      prev = senderKey(m);
    }
    box.replaceChildren(...nodes);
  }
  const PAGE = 100;
  async function loadEarlier(before) {
    const box = $("#messages");
    const id = S.current;
    try {
      const older = await SB.api("GET", "/api/v1/sessions/" + id + "/messages?limit=" + PAGE + "&before=" + before);
      if (S.current !== id) return;
      S.more = older.length === PAGE;
      const fromBottom = box.scrollHeight - box.scrollTop;
      for (const m of older) S.messages.set(m.id, m);
      renderMessages();
      box.scrollTop = box.scrollHeight - fromBottom;
    } catch (e) {
      showError(null, e);
    }
  }
  function nearBottom(box) {
    return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  }
  // Delivery progress only moves forward: a POST answer ("queued") may arrive after the
  // live event that already says "sent". A retry (failed/unknown -> queued) is a real restart.
  const PROGRESS = { queued: 0, sent: 1, delivered: 2, read: 3 };
  function isStale(prev, m) {
    if (!prev || !(prev.status in PROGRESS) || !(m.status in PROGRESS)) return false;
    return PROGRESS[m.status] < PROGRESS[prev.status];
  }
  function upsertMessage(m) {
    if (m.session_id !== S.current) return;
    const box = $("#messages");
    if (!box) return;
    if (isStale(S.messages.get(m.id), m)) return;
    const stick = nearBottom(box) || m.author === me;
    const known = S.messages.has(m.id);
    S.messages.set(m.id, m);
    const old = box.querySelector('.msg[data-id="' + m.id + '"]');
    if (known && old) {
      old.replaceWith(msgEl(m, old.classList.contains("first")));
    } else {
      const list = Array.from(S.messages.values()).sort((a, b) => a.id - b.id);
      const last = list[list.length - 1];
      const before = list[list.length - 2];
      if (last.id !== m.id) return renderMessages();
      if (!before || dayOf(before.created) !== dayOf(m.created)) box.append(h("div", { class: "day" }, h("span", { text: SB.fmtDay(m.created) })));
      box.append(msgEl(m, !before || dayOf(before.created) !== dayOf(m.created) || senderKey(before) !== senderKey(m)));
    }
    if (stick) box.scrollTop = box.scrollHeight;
  }

  function actionBtn(action, icon, label, onclick, primary) {
    const b = h("button", { type: "button", class: "act" + (primary ? " primary" : ""), dataset: { action }, title: label, "aria-label": label }, SB.icon(icon), h("span", { class: "act-label", text: label }));
    b.addEventListener("click", onclick);
    return b;
  }
  async function act(path, data) {
    try {
      const r = await SB.api("POST", "/api/v1/sessions/" + S.current + path, data);
      await refreshDetail();
      return r;
    } catch (e) {
      showError(null, e);
      throw e;
    }
  }
  function headerEl() {
    const d = S.detail;
    const s = d.session;
    const open = s.status === "open";
    const addr = (d.contact && d.contact.address) || s.contact_address;
    const phone = s.channel_kind === "sms" || s.channel_kind === "whatsapp";
    const sub = [addr !== s.contact_name ? addr : "", d.channel ? d.channel.name : kindName(s.channel_kind), s.assignee ? t("inbox.owner") + ": " + userName(s.assignee) : t("inbox.nobody")];
    if (!open) sub.push(t("inbox.closed") + (s.result ? " · " + s.result : ""));
    const back = h("a", { class: "icon-btn back", href: "/chat/external", id: "back", "aria-label": t("inbox.back") }, SB.icon("back"));
    back.addEventListener("click", (e) => {
      e.preventDefault();
      closeSession(true);
    });
    const actions = h("div", { class: "s-actions", id: "s-actions" });
    if (open && !s.assignee) actions.append(actionBtn("pickup", "check", t("inbox.pickup"), () => act("/pickup").catch(() => {}), true));
    if (open) actions.append(actionBtn("transfer", "transfer", t("inbox.transfer"), transferDialog));
    actions.append(actionBtn("note", "note", t("inbox.note"), () => setMode("note")));
    if (phone && addr) {
      const tel = s.channel_kind === "whatsapp" && !addr.startsWith("+") ? "+" + addr : addr;
      actions.append(h("a", { class: "act", href: "tel:" + tel, dataset: { action: "call" }, title: t("inbox.call"), "aria-label": t("inbox.call") }, SB.icon("phone"), h("span", { class: "act-label", text: t("inbox.call") })));
    }
    actions.append(actionBtn("mute", s.muted ? "bell" : "belloff", s.muted ? t("inbox.unmute") : t("inbox.mute"), () => muteToggle(!s.muted)));
    if (s.archived) actions.append(actionBtn("unarchive", "unarchive", t("inbox.unarchive"), () => act("/unarchive").catch(() => {})));
    else actions.append(actionBtn("archive", "archive", t("inbox.archive"), () => act("/archive").catch(() => {})));
    if (open) actions.append(actionBtn("end", "end", t("inbox.end"), endDialog));
    const det = actionBtn("details", "info", t("inbox.details"), () => {
      S.showDetails = !S.showDetails;
      root.classList.toggle("show-details", S.showDetails);
      det.classList.toggle("on", S.showDetails);
    });
    det.classList.toggle("on", S.showDetails);
    actions.append(det);
    return h(
      "header",
      { class: "s-head" },
      back,
      iconImg(s.channel_kind, 34),
      h("div", { class: "s-title" }, h("h2", { class: "s-name", text: s.contact_name || addr }), h("div", { class: "s-sub", text: sub.filter(Boolean).join(" · ") })),
      actions,
    );
  }
  async function muteToggle(muted) {
    try {
      await SB.api("POST", "/api/v1/sessions/" + S.current + "/mute", { muted });
      S.detail.session.muted = muted;
      const r = S.rows.get(S.current);
      if (r) r.muted = muted;
      renderHeader();
      renderList();
    } catch (e) {
      showError(null, e);
    }
  }

  // ---------------------------------------------------------------- details panel
  function dl(pairs) {
    return h("dl", {}, pairs.filter((p) => p[1] !== undefined && p[1] !== "").map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]));
  }
  function detailsEl() {
    const d = S.detail;
    const s = d.session;
    const c = d.contact || {};
    const nameIn = h("input", { id: "contact-name", value: c.name || "", maxlength: "100", "aria-label": t("inbox.name") });
    const err = h("p", { class: "error", role: "alert", hidden: true });
    const save = h("button", { type: "submit", text: t("common.save") });
    const form = h("form", { class: "name-edit" }, nameIn, save);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      err.hidden = true;
      try {
        await SB.api("PATCH", "/api/v1/contacts/" + c.id, { name: nameIn.value });
        await refreshDetail();
        const r = S.rows.get(s.id);
        if (r) r.contact_name = nameIn.value || c.address;
        renderList();
      } catch (ex) {
        showError(err, ex);
      }
    });
    const history = (d.history || []).map((x) =>
      h("li", {}, h("a", { href: "/chat/external/" + x.id, dataset: { id: x.id }, text: SB.fmtDateTime(x.created) + " · " + (x.status === "open" ? t("inbox.open") : t("inbox.closed")) }), h("div", { class: "muted", text: x.last_preview || "" })),
    );
    const tl = (d.timeline || []).map((e) =>
      h("li", {}, h("time", { text: SB.fmtDateTime(e.at) }), h("span", { text: " " + t("tl." + e.kind) + (e.actor ? " · " + userName(e.actor) : "") + (e.detail ? " · " + e.detail : "") })),
    );
    const closeX = h("button", { type: "button", class: "details-x", "aria-label": t("inbox.close"), text: "×" });
    closeX.addEventListener("click", () => {
      S.showDetails = false;
      root.classList.remove("show-details");
      renderHeader();
    });
    const panel = h(
      "aside",
      { class: "details", id: "details" },
      closeX,
      h("h3", { text: t("inbox.customer") }),
      form,
      err,
      dl([
        [t("inbox.number"), c.address || s.contact_address],
        [t("inbox.channel"), kindName(s.channel_kind)],
        [t("inbox.blocked"), s.blocked ? "✓" : ""],
      ]),
      h("h3", { text: t("inbox.session") }),
      dl([
        [t("inbox.channel"), d.channel ? d.channel.name : ""],
        [t("inbox.business_number"), d.channel ? d.channel.business_address : ""],
        [t("inbox.arrived"), SB.fmtDateTime(s.created)],
        [t("inbox.owner"), s.assignee ? userName(s.assignee) : t("inbox.nobody")],
        [t("inbox.status"), s.status === "open" ? t("inbox.open") : t("inbox.closed") + (s.result ? " · " + s.result : "") + (s.close_note ? " · " + s.close_note : "")],
      ]),
      h("h3", { text: t("inbox.previous") }),
      history.length ? h("ul", { class: "history" }, history) : h("p", { class: "muted", text: t("inbox.none") }),
      h("h3", { text: t("inbox.timeline") }),
      h("ol", { class: "timeline" }, tl),
    );
    panel.addEventListener("click", (e) => {
      const a = e.target.closest("a[data-id]");
      if (a) {
        e.preventDefault();
        openSession(Number(a.dataset.id), { push: true });
      }
    });
    return panel;
  }

  // ---------------------------------------------------------------- composer
  const EMOJI = "😀 😃 😄 😁 😊 🙂 😉 😍 😘 😎 🤔 😅 😂 🙏 👍 👎 👌 👋 🙌 👏 💪 🤝 ❤️ 💙 🎉 ✅ ❌ ⚠️ ⭐ 🔥 📞 📎 📷 📄 📦 🚚 ⏰ 📅 💶 🛒 🏠 ☕ 😢 😮 🙈 🤷 👀".split(" ");
  function windowState() {
    return S.detail ? S.detail.window : "closed";
  }
  function composerEl() {
    const w = windowState();
    const area = h("div", { class: "composer-area mode-" + S.mode, id: "composer-area", dataset: { window: w } });
    const notice = w === "human_agent" ? t("inbox.window_human") : w !== "open" ? S.detail.window_message : "";
    if (notice && S.mode === "reply") area.append(h("p", { class: "window-note " + w, id: "window-note", role: "note", text: notice }));
    const modes = h(
      "div",
      { class: "modes", role: "tablist" },
      h("button", { type: "button", role: "tab", class: S.mode === "reply" ? "on" : "", dataset: { mode: "reply" }, text: t("inbox.reply") }),
      h("button", { type: "button", role: "tab", class: S.mode === "note" ? "on" : "", dataset: { mode: "note" }, text: t("inbox.internal_note") }),
    );
    modes.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-mode]");
      if (b) setMode(b.dataset.mode);
    });
    area.append(modes);
    const err = h("p", { class: "composer-error", id: "composer-error", role: "alert", hidden: true });
    if (S.mode === "reply" && w === "template_only") {
      area.append(templatePicker(err), err);
      return area;
    }
    const disabled = S.mode === "reply" && w === "closed";
    const ta = h("textarea", { id: "composer-text", rows: "1", placeholder: S.mode === "note" ? t("inbox.note_placeholder") : t("inbox.placeholder"), disabled, "aria-label": t("inbox.placeholder") });
    // Canned replies: typing "/shortcut" at the start offers matches; Enter or Tab or a click
    // inserts the text in place of the shortcut.
    const canned = h("ul", { class: "canned-pop", id: "canned-pop", role: "listbox", hidden: true });
    let cannedItems = [];
    let cannedSel = 0;
    function cannedShow(items) {
      cannedItems = items;
      cannedSel = 0;
      canned.replaceChildren(...items.map((c, i) => h("li", { role: "option", class: i === 0 ? "on" : "", dataset: { i: String(i) } },
        h("strong", { text: "/" + c.shortcut }), h("span", { text: c.text }))));
      canned.hidden = items.length === 0;
    }
    function cannedPick(i) {
      const c = cannedItems[i];
      if (!c) return;
      ta.value = c.text;
      canned.hidden = true;
      cannedItems = [];
      autosize(ta);
      ta.focus();
    }
    canned.addEventListener("mousedown", (e) => {
      const li = e.target.closest("li[data-i]");
      if (li) {
        e.preventDefault();
        cannedPick(Number(li.dataset.i));
      }
    });
    let cannedTimer = null;
    ta.addEventListener("input", () => {
      const m = /^\/(\S*)$/.exec(ta.value);
      clearTimeout(cannedTimer);
      if (!m) {
        canned.hidden = true;
        cannedItems = [];
        return;
      }
      cannedTimer = setTimeout(async () => {
        try {
          const list = await SB.api("GET", "/api/v1/canned?q=" + encodeURIComponent(m[1]));
          if (/^\/(\S*)$/.test(ta.value)) cannedShow((list || []).slice(0, 8));
        } catch (_) {
          canned.hidden = true;
        }
      }, 120);
    });
    ta.addEventListener("keydown", (e) => {
      if (!canned.hidden && cannedItems.length) {
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          cannedSel = (cannedSel + (e.key === "ArrowDown" ? 1 : cannedItems.length - 1)) % cannedItems.length;
          canned.querySelectorAll("li").forEach((li, i) => li.classList.toggle("on", i === cannedSel));
          return;
        }
        if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
          e.preventDefault();
          cannedPick(cannedSel);
          return;
        }
        if (e.key === "Escape") {
          canned.hidden = true;
          return;
        }
      }
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        send();
      }
    });
    ta.addEventListener("input", () => autosize(ta));
    ta.addEventListener("paste", (e) => {
      const files = Array.from((e.clipboardData && e.clipboardData.files) || []);
      if (files.length && S.mode === "reply") {
        e.preventDefault();
        files.forEach(upload);
      }
    });
    const pop = h("div", { class: "emoji-pop", id: "emoji-pop", hidden: true }, EMOJI.map((x) => h("button", { type: "button", text: x })));
    pop.addEventListener("click", (e) => {
      const b = e.target.closest("button");
      if (!b) return;
      insertAtCursor(ta, b.textContent);
      pop.hidden = true;
    });
    const emojiBtn = h("button", { type: "button", class: "icon-btn", id: "emoji-btn", title: t("inbox.emoji"), "aria-label": t("inbox.emoji"), disabled }, SB.icon("smile"));
    emojiBtn.addEventListener("click", () => (pop.hidden = !pop.hidden));
    const tools = [emojiBtn];
    if (S.mode === "reply") {
      const file = h("input", { type: "file", id: "attach-input", multiple: true, hidden: true, accept: "image/*,video/*,audio/*,application/pdf,text/plain,text/csv,.doc,.docx,.xls,.xlsx,.zip" });
      const cam = h("input", { type: "file", id: "camera-input", hidden: true, accept: "image/*", capture: "environment" });
      for (const inp of [file, cam]) inp.addEventListener("change", () => {
        Array.from(inp.files || []).forEach(upload);
        inp.value = "";
      });
      const attach = h("label", { class: "icon-btn" + (disabled ? " disabled" : ""), title: t("inbox.attach"), "aria-label": t("inbox.attach"), id: "attach-btn" }, SB.icon("clip"), file);
      const camera = h("label", { class: "icon-btn mobile-only" + (disabled ? " disabled" : ""), title: t("inbox.camera"), "aria-label": t("inbox.camera") }, SB.icon("camera"), cam);
      if (disabled) file.disabled = cam.disabled = true;
      tools.push(attach, camera);
    }
    const sendBtn = h("button", { type: "submit", class: "send", id: "send-btn", title: t("inbox.send"), "aria-label": t("inbox.send"), disabled }, SB.icon("send", true));
    const form = h("form", { class: "composer", id: "composer" }, h("div", { class: "tools" }, tools), ta, sendBtn, pop, canned);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      send();
    });
    area.append(h("div", { class: "chips", id: "chips" }), form, err);
    setTimeout(renderChips, 0);
    return area;
  }
  function autosize(ta) {
    ta.style.height = "auto";
    ta.style.height = Math.min(ta.scrollHeight, 180) + "px";
  }
  function insertAtCursor(ta, text) {
    const a = ta.selectionStart || 0;
    const b = ta.selectionEnd || 0;
    ta.value = ta.value.slice(0, a) + text + ta.value.slice(b);
    ta.selectionStart = ta.selectionEnd = a + text.length;
    ta.focus();
    autosize(ta);
  }
  function setMode(mode) {
    S.mode = mode;
    renderComposer();
    const ta = $("#composer-text");
    if (ta) ta.focus();
  }
  async function send() {
    const ta = $("#composer-text");
    const err = $("#composer-error");
    if (!ta || ta.disabled) return;
    err.hidden = true;
    const text = ta.value;
    if (S.mode === "note") {
      if (!text.trim()) return;
      try {
        const m = await SB.api("POST", "/api/v1/sessions/" + S.current + "/notes", { text });
        ta.value = "";
        autosize(ta);
        upsertMessage(m);
        refreshDetail();
      } catch (e) {
        showError(err, e);
      }
      return;
    }
    if (S.pending.some((p) => !p.id && !p.error)) {
      err.textContent = t("inbox.uploading") + "…";
      err.hidden = false;
      return;
    }
    const ids = S.pending.filter((p) => p.id).map((p) => p.id);
    if (!text.trim() && !ids.length) return;
    const btn = $("#send-btn");
    btn.disabled = true;
    try {
      const m = await SB.api("POST", "/api/v1/sessions/" + S.current + "/messages", { text, attachment_ids: ids });
      ta.value = "";
      autosize(ta);
      S.pending = [];
      renderChips();
      upsertMessage(m);
    } catch (e) {
      showError(err, e);
    } finally {
      btn.disabled = false;
      ta.focus();
    }
  }
  function renderChips() {
    const box = $("#chips");
    if (!box) return;
    box.replaceChildren(
      ...S.pending.map((p) => {
        const bar = h("div", { class: "bar" }, h("div", { class: "fill" }));
        bar.firstChild.style.width = Math.round(p.progress * 100) + "%";
        const x = h("button", { type: "button", class: "chip-x", "aria-label": t("inbox.remove"), text: "×" });
        x.addEventListener("click", () => {
          if (p.xhr && !p.id) p.xhr.abort();
          S.pending = S.pending.filter((q) => q !== p);
          renderChips();
        });
        const cls = "chip" + (p.error ? " bad" : p.id ? " done" : " busy");
        return h(
          "div",
          { class: cls, dataset: { progress: Math.round(p.progress * 100) } },
          p.preview ? h("img", { src: p.preview, alt: "" }) : h("span", { class: "file-ico", text: "📄" }),
          h("div", { class: "chip-body" }, h("div", { class: "chip-name", text: p.name }), p.error ? h("div", { class: "chip-err", text: p.error }) : h("div", { class: "chip-size", text: SB.fmtSize(p.size) }), p.id || p.error ? null : bar),
          x,
        );
      }),
    );
  }
  function upload(file) {
    if (!S.detail || !S.detail.channel) return;
    const p = { name: file.name || "file", size: file.size, progress: 0, id: null, error: null, xhr: new XMLHttpRequest() };
    if ((file.type || "").startsWith("image/")) p.preview = URL.createObjectURL(file);
    S.pending.push(p);
    renderChips();
    const x = p.xhr;
    x.open("POST", "/api/v1/attachments?channel_id=" + S.detail.channel.id);
    x.setRequestHeader("X-CSRF-Token", SB.csrf());
    x.setRequestHeader("X-Filename", encodeURIComponent(p.name));
    x.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    x.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        p.progress = e.loaded / e.total;
        const chip = $("#chips") && $("#chips").children[S.pending.indexOf(p)];
        const fill = chip && chip.querySelector(".fill");
        if (fill) fill.style.width = Math.round(p.progress * 100) + "%";
        if (chip) chip.dataset.progress = String(Math.round(p.progress * 100));
      }
    });
    x.addEventListener("load", () => {
      let j = null;
      try {
        j = JSON.parse(x.responseText);
      } catch (_) {
        j = null;
      }
      if (x.status === 201 || x.status === 200) {
        p.id = j && j.id;
        p.progress = 1;
      } else {
        p.error = (j && j.error && j.error.message) || (x.status === 404 ? t("inbox.not_available") : "HTTP " + x.status);
      }
      renderChips();
    });
    x.addEventListener("error", () => {
      p.error = t("inbox.error");
      renderChips();
    });
    x.send(file);
  }
  function templatePicker(err) {
    const box = h("div", { class: "templates", id: "templates" }, h("p", { class: "muted", text: t("inbox.templates") + "…" }));
    const fill = (list) => {
      if (!list.length) return box.replaceChildren(h("p", { class: "no-templates", text: t("inbox.no_templates") }));
      const sel = h("select", { id: "template-select", "aria-label": t("inbox.choose_template") }, h("option", { value: "", text: t("inbox.choose_template") }), list.map((x, i) => h("option", { value: i, text: x.name + " (" + x.language + ")" })));
      const body = h("div", { class: "tpl-body" });
      const params = h("div", { class: "tpl-params" });
      const sendBtn = h("button", { type: "button", class: "primary", id: "template-send", text: t("inbox.template_send"), disabled: true });
      sel.addEventListener("change", () => {
        const x = list[Number(sel.value)];
        sendBtn.disabled = !x;
        body.textContent = x ? x.body || "" : "";
        const n = x ? Math.max((x.params || []).length, ((x.body || "").match(/\{\{\d+\}\}/g) || []).length) : 0;
        params.replaceChildren(...Array.from({ length: n }, (_, i) => h("input", { placeholder: (x.params && x.params[i] && (x.params[i].name || x.params[i])) || "{{" + (i + 1) + "}}", "aria-label": "param " + (i + 1) })));
      });
      sendBtn.addEventListener("click", async () => {
        const x = list[Number(sel.value)];
        if (!x) return;
        err.hidden = true;
        sendBtn.disabled = true;
        try {
          const m = await SB.api("POST", "/api/v1/sessions/" + S.current + "/messages", { text: "", template: { name: x.name, language: x.language, params: Array.from(params.querySelectorAll("input")).map((i) => i.value) } });
          upsertMessage(m);
        } catch (e) {
          showError(err, e);
        } finally {
          sendBtn.disabled = false;
        }
      });
      box.replaceChildren(sel, body, params, sendBtn);
    };
    if (S.templates) fill(S.templates);
    else
      SB.api("GET", "/api/v1/templates")
        .then((list) => {
          S.templates = Array.isArray(list) ? list : (list && list.templates) || [];
          fill(S.templates);
        })
        .catch(() => fill([]));
    return box;
  }

  // ---------------------------------------------------------------- dialogs
  function dialog(title, fields, submitLabel, onSubmit) {
    const err = h("p", { class: "error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "primary", text: submitLabel });
    const cancel = h("button", { type: "button", text: t("common.cancel") });
    const form = h("form", { method: "dialog" }, h("h3", { text: title }), fields, err, h("div", { class: "dlg-actions" }, cancel, submit));
    const dlg = h("dialog", { class: "dlg" }, form);
    cancel.addEventListener("click", () => dlg.close());
    dlg.addEventListener("close", () => dlg.remove());
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      err.hidden = true;
      submit.disabled = true;
      try {
        await onSubmit();
        dlg.close();
      } catch (ex) {
        showError(err, ex);
      } finally {
        submit.disabled = false;
      }
    });
    document.body.append(dlg);
    dlg.showModal();
    return dlg;
  }
  async function loadUsers() {
    try {
      const list = await SB.api("GET", "/api/v1/users");
      for (const u of list) S.users.set(u.id, u);
    } catch (_) {
      /* names fall back to ids */
    }
  }
  async function transferDialog() {
    if (!S.users.size) await loadUsers();
    const sel = h("select", { id: "transfer-to", required: true }, h("option", { value: "", text: "—" }), Array.from(S.users.values()).filter((u) => u.id !== me && !u.disabled).map((u) => h("option", { value: u.id, text: u.display_name + (u.extension ? " (" + u.extension + ")" : "") })));
    const note = h("textarea", { id: "transfer-note", rows: "3", maxlength: "2000" });
    const id = S.current;
    dialog(t("inbox.transfer"), [h("label", {}, t("inbox.transfer_to"), sel), h("label", {}, t("inbox.transfer_note"), note)], t("inbox.transfer"), async () => {
      await SB.api("POST", "/api/v1/sessions/" + id + "/transfer", { to_user_id: Number(sel.value), note: note.value });
      if (S.current === id) await refreshDetail();
    });
  }
  const RESULT_HINTS = ["Resolved", "Answered", "Sale", "No response", "Spam"];
  function endDialog() {
    const result = h("input", { id: "end-result", maxlength: "100", list: "end-results" });
    const list = h("datalist", { id: "end-results" }, RESULT_HINTS.map((v) => h("option", { value: v })));
    // When the admin defined the session results, only those are accepted: offer exactly them.
    SB.api("GET", "/api/v1/results")
      .then((r) => {
        const items = (r && r.items) || [];
        if (items.length) list.replaceChildren(...items.map((v) => h("option", { value: v })));
      })
      .catch(() => {});
    const note = h("textarea", { id: "end-note", rows: "3", maxlength: "2000" });
    const id = S.current;
    dialog(t("inbox.end"), [h("label", {}, t("inbox.result"), result, list), h("label", {}, t("inbox.close_note"), note)], t("inbox.end"), async () => {
      await SB.api("POST", "/api/v1/sessions/" + id + "/close", { result: result.value.trim() || null, note: note.value });
      if (S.current === id) await refreshDetail();
    });
  }
  function lightbox(url, name) {
    const img = h("img", { src: url, alt: name });
    const dlg = h("dialog", { class: "lightbox" }, img, h("div", { class: "lb-bar" }, h("a", { href: url, download: name, text: name }), h("button", { type: "button", text: "×", "aria-label": t("inbox.close") })));
    dlg.addEventListener("click", (e) => {
      if (e.target.tagName !== "A") dlg.close();
    });
    dlg.addEventListener("close", () => dlg.remove());
    document.body.append(dlg);
    dlg.showModal();
  }

  // ---------------------------------------------------------------- rendering the pane
  function renderHeader() {
    const old = pane.querySelector(".s-head");
    if (old && S.detail) old.replaceWith(headerEl());
  }
  function renderDetails() {
    const old = pane.querySelector("#details");
    if (old && S.detail) old.replaceWith(detailsEl());
  }
  function renderComposer() {
    const old = pane.querySelector("#composer-area");
    if (old && S.detail) old.replaceWith(composerEl());
  }
  function renderPane() {
    const s = S.detail.session;
    const box = h("div", { class: "messages", id: "messages" });
    const main = h("div", { class: "s-main" }, headerEl(), box, composerEl());
    pane.replaceChildren(main, detailsEl());
    renderMessages();
    box.scrollTop = box.scrollHeight;
    SB.notify.setTitle(s.contact_name || s.contact_address);
    let depth = 0;
    pane.ondragenter = (e) => {
      if (!e.dataTransfer || !Array.from(e.dataTransfer.types || []).includes("Files")) return;
      depth++;
      pane.classList.add("dragging");
    };
    pane.ondragleave = () => {
      depth = Math.max(0, depth - 1);
      if (!depth) pane.classList.remove("dragging");
    };
    pane.ondragover = (e) => e.preventDefault();
    pane.ondrop = (e) => {
      e.preventDefault();
      depth = 0;
      pane.classList.remove("dragging");
      if (S.mode !== "reply" || !["open", "human_agent"].includes(windowState())) return;
      Array.from((e.dataTransfer && e.dataTransfer.files) || []).forEach(upload);
    };
  }
  let readTimer = null;
  function markRead() {
    clearTimeout(readTimer);
    readTimer = setTimeout(async () => {
      if (!S.current || !visible()) return;
      const id = S.current;
      const r = S.rows.get(id);
      if (r) {
        r.unread = 0;
        renderList();
      }
      try {
        await SB.api("POST", "/api/v1/sessions/" + id + "/read");
      } catch (_) {
        /* the next open retries */
      }
    }, 250);
  }
  let openSeq = 0;
  async function openSession(id, opts) {
    const my = ++openSeq;
    if (S.current !== id) {
      S.mode = "reply";
      S.pending = [];
    }
    S.current = id;
    root.classList.add("has-session");
    SB.notify.setViewing(id);
    syncUrl(opts && opts.push);
    renderList();
    try {
      const [d, msgs] = await Promise.all([SB.api("GET", "/api/v1/sessions/" + id), SB.api("GET", "/api/v1/sessions/" + id + "/messages?limit=" + PAGE)]);
      if (my !== openSeq) return;
      S.detail = d;
      S.more = msgs.length === PAGE;
      S.messages = new Map(msgs.map((m) => [m.id, m]));
      renderPane();
      markRead();
    } catch (e) {
      if (my !== openSeq) return;
      S.detail = null;
      pane.replaceChildren(h("div", { class: "empty-pane" }, h("p", { class: "error", role: "alert", text: e.message || t("inbox.error") })));
    }
  }
  SB.openSession = openSession;
  function closeSession(push) {
    S.current = null;
    S.detail = null;
    SB.notify.setViewing(null);
    SB.notify.setTitle(t("inbox.title"));
    root.classList.remove("has-session");
    pane.replaceChildren(h("div", { class: "empty-pane" }, h("div", { class: "empty-illu", "aria-hidden": "true" }), h("p", { text: t("inbox.pick_one") })));
    syncUrl(push);
    renderList();
  }
  let detailTimer = null;
  function refreshDetail() {
    clearTimeout(detailTimer);
    return new Promise((resolve) => {
      detailTimer = setTimeout(async () => {
        const id = S.current;
        if (!id) return resolve();
        try {
          const d = await SB.api("GET", "/api/v1/sessions/" + id);
          if (S.current !== id) return resolve();
          const before = S.detail;
          S.detail = d;
          remember(Object.assign({}, d.session, { unread: (S.rows.get(id) || {}).unread || 0 }));
          if (!matches(d.session)) S.rows.delete(id);
          renderList();
          renderHeader();
          renderDetails();
          if (!before || before.window !== d.window || before.session.status !== d.session.status) renderComposer();
        } catch (_) {
          /* keep the last view */
        }
        resolve();
      }, 120);
    });
  }

  // ---------------------------------------------------------------- live events
  SB.live.on((ev) => {
    const d = ev.data || {};
    switch (ev.kind) {
      case "message.created":
      case "message.updated": {
        const row = S.rows.get(d.session_id);
        if (ev.kind === "message.created" && d.direction === "in") {
          const viewing = S.current === d.session_id && visible();
          if (row && !viewing && d.id > (row.counted || 0)) {
            row.unread = (row.unread || 0) + 1;
            row.counted = d.id;
          }
          if (viewing) markRead();
        }
        if (!row && ev.kind === "message.created" && d.direction !== "note") fetchRow(d.session_id);
        if (S.current === d.session_id) upsertMessage(d);
        renderList();
        break;
      }
      case "session.created":
      case "session.updated": {
        const row = S.rows.get(d.id);
        if (row) {
          Object.assign(row, d);
          if (!matches(row)) S.rows.delete(d.id);
          renderList();
        } else if (matches(d)) {
          fetchRow(d.id);
        }
        if (S.current === d.id) refreshDetail();
        break;
      }
      case "session.read": {
        const row = S.rows.get(d.session_id);
        if (row) {
          row.unread = 0;
          renderList();
        }
        break;
      }
      case "contact.updated": {
        // Renamed, blocked or merged by a colleague (or through the API): follow live.
        let hit = false;
        for (const row of S.rows.values()) {
          if (row.contact_id !== d.id) continue;
          row.contact_name = d.name || d.address || row.contact_address;
          row.blocked = !!d.blocked;
          const n = SB.notify.sessions.get(row.id);
          if (n) n.name = row.contact_name;
          hit = true;
        }
        if (hit) renderList();
        if (S.current && S.detail && S.detail.session.contact_id === d.id) refreshDetail();
        break;
      }
      case "session.muted": {
        const row = S.rows.get(d.session_id);
        if (row) row.muted = d.muted;
        if (S.current === d.session_id && S.detail) {
          S.detail.session.muted = d.muted;
          renderHeader();
        }
        renderList();
        break;
      }
      case "reset":
        loadList(false);
        if (S.current) openSession(S.current, { push: false });
        break;
    }
  });

  // ---------------------------------------------------------------- wiring
  $("#scope-tabs").addEventListener("click", (e) => {
    const a = e.target.closest("a[data-scope]");
    if (!a) return;
    e.preventDefault();
    S.scope = a.dataset.scope;
    for (const x of document.querySelectorAll("#scope-tabs a")) x.classList.toggle("active", x === a);
    S.next = "";
    syncUrl(false);
    loadList(false);
  });
  $("#channel-filter").addEventListener("change", (e) => {
    S.channel = e.target.value;
    syncUrl(false);
    loadList(false);
  });
  $("#sort").addEventListener("change", (e) => {
    S.sort = e.target.value;
    renderList();
  });
  $("#load-more").addEventListener("click", () => loadList(true));
  listEl.addEventListener("click", (e) => {
    const a = e.target.closest("li.srow a");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    openSession(Number(a.closest("li").dataset.id), { push: true });
  });
  window.addEventListener("popstate", () => {
    const m = location.pathname.match(/^\/chat\/external\/(\d+)/);
    if (m) openSession(Number(m[1]), { push: false });
    else if (S.current) closeSession(false);
  });
  document.addEventListener("visibilitychange", () => {
    if (visible() && S.current) {
      SB.notify.setViewing(S.current);
      markRead();
    }
  });
  document.addEventListener("click", (e) => {
    const pop = $("#emoji-pop");
    if (pop && !pop.hidden && !e.target.closest("#emoji-pop") && !e.target.closest("#emoji-btn")) pop.hidden = true;
  });
  setInterval(() => {
    for (const el of listEl.querySelectorAll("time[data-ts]")) el.textContent = SB.fmtRel(Number(el.dataset.ts));
  }, 30000);

  (async function boot() {
    await loadUsers();
    await loadList(false);
    const id = Number(root.dataset.session || 0);
    if (id) openSession(id, { push: false });
    else SB.notify.setTitle(t("inbox.title"));
  })();
})();
