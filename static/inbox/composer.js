// The composer under the conversation: reply or internal note, Enter sends, canned replies
// ("/shortcut"), emoji, files; the reply window decides what may be sent.
import { api } from "../core/api.js";
import { $, h, icon } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { upsertMessage } from "./messages.js";
import { S, pane, paneEl, showError, userName } from "./state.js";
import { attach, renderChips } from "./uploads.js";

const EMOJI = "😀 😃 😄 😁 😊 🙂 😉 😍 😘 😎 🤔 😅 😂 🙏 👍 👎 👌 👋 🙌 👏 💪 🤝 ❤️ 💙 🎉 ✅ ❌ ⚠️ ⭐ 🔥 📞 📎 📷 📄 📦 🚚 ⏰ 📅 💶 🛒 🏠 ☕ 😢 😮 🙈 🤷 👀".split(" ");

/** "open" | "human_agent" | "template_only" | "closed" for the open session. */
export const windowState = () => (S.detail ? S.detail.window : "closed");

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

// Canned replies: typing "/shortcut" at the start offers matches; Enter or Tab or a click
// inserts the text in place of the shortcut. Returns the popup and a keydown handler that
// says whether it took the key.
function cannedReplies(ta) {
  const pop = h("ul", { class: "canned-pop", id: "canned-pop", role: "listbox", hidden: true });
  let items = [];
  let sel = 0;
  let timer = null;
  const show = (list) => {
    items = list;
    sel = 0;
    pop.replaceChildren(...list.map((c, i) => h("li", { role: "option", class: i === 0 ? "on" : "", dataset: { i: String(i) } }, h("strong", { text: "/" + c.shortcut }), h("span", { text: c.text }))));
    pop.hidden = list.length === 0;
  };
  const pick = (i) => {
    const c = items[i];
    if (!c) return;
    ta.value = c.text;
    pop.hidden = true;
    items = [];
    autosize(ta);
    ta.focus();
  };
  pop.addEventListener("mousedown", (e) => {
    const li = e.target.closest("li[data-i]");
    if (li) {
      e.preventDefault();
      pick(Number(li.dataset.i));
    }
  });
  ta.addEventListener("input", () => {
    const m = /^\/(\S*)$/.exec(ta.value);
    clearTimeout(timer);
    if (!m) {
      pop.hidden = true;
      items = [];
      return;
    }
    timer = setTimeout(async () => {
      try {
        const list = await api("GET", "/api/v1/canned?q=" + encodeURIComponent(m[1]));
        if (/^\/(\S*)$/.test(ta.value)) show((list || []).slice(0, 8));
      } catch {
        pop.hidden = true;
      }
    }, 120);
  });
  const onKey = (e) => {
    if (pop.hidden || !items.length) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      sel = (sel + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      pop.querySelectorAll("li").forEach((li, i) => li.classList.toggle("on", i === sel));
      return true;
    }
    if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
      e.preventDefault();
      pick(sel);
      return true;
    }
    if (e.key === "Escape") {
      pop.hidden = true;
      return true;
    }
    return false;
  };
  return { pop, onKey };
}

function fileTools(disabled) {
  const accept = "image/*,video/*,audio/*,application/pdf,text/plain,text/csv,.doc,.docx,.xls,.xlsx,.zip";
  const file = h("input", { type: "file", id: "attach-input", multiple: true, hidden: true, accept });
  const cam = h("input", { type: "file", id: "camera-input", hidden: true, accept: "image/*", capture: "environment" });
  for (const inp of [file, cam]) {
    inp.addEventListener("change", () => {
      Array.from(inp.files || []).forEach(attach);
      inp.value = "";
    });
  }
  // Buttons (focusable, named) that open the hidden file inputs; the inputs are named too.
  file.setAttribute("aria-label", t("inbox.attach"));
  cam.setAttribute("aria-label", t("inbox.camera"));
  const attachBtn = h("button", { type: "button", class: "icon-btn", title: t("inbox.attach"), "aria-label": t("inbox.attach"), id: "attach-btn", disabled, onclick: () => file.click() }, icon("clip"));
  const camera = h("button", { type: "button", class: "icon-btn mobile-only", title: t("inbox.camera"), "aria-label": t("inbox.camera"), disabled, onclick: () => cam.click() }, icon("camera"));
  if (disabled) file.disabled = cam.disabled = true;
  return [attachBtn, file, camera, cam];
}

/** The colleague who owns the open session when it is not the signed-in agent, else 0. */
const otherOwner = () => (S.detail && S.detail.allowed && S.detail.allowed.owned_by_other ? S.detail.session.assignee : 0);

function ownerNoteEl() {
  const other = otherOwner();
  const show = other && S.mode === "reply" && S.detail.session.status === "open";
  return h("p", { class: "window-note owner-note", id: "owner-note", role: "note", hidden: !show, text: show ? t("inbox.owned_by").replace("{name}", userName(other)) : "" });
}

/** Updates the "a colleague owns this" note in place (typed text stays). */
export function renderOwnerNote() {
  const old = paneEl.querySelector("#owner-note");
  if (old && S.detail) old.replaceWith(ownerNoteEl());
}

// Live chat: the visitor sees "… is typing" while the agent types (at most every 2.5 s).
// WhatsApp: Meta shows a typing indicator for 25 s (or until the reply): refresh every 20 s.
let typedAt = 0;
function typingSignal() {
  const kind = S.detail && S.detail.session.channel_kind;
  if (S.mode !== "reply" || (kind !== "livechat" && kind !== "whatsapp")) return;
  const now = Date.now();
  if (now - typedAt < (kind === "whatsapp" ? 20000 : 2500)) return;
  typedAt = now;
  api("POST", "/api/v1/sessions/" + S.current + "/typing").catch(() => {});
}

export function composerEl() {
  const w = windowState();
  const area = h("div", { class: "composer-area mode-" + S.mode, id: "composer-area", dataset: { window: w } });
  const humanKey = S.detail && S.detail.session.channel_kind === "instagram" ? "inbox.window_human_ig" : "inbox.window_human";
  const notice = w === "human_agent" ? t(humanKey) : w !== "open" ? S.detail.window_message : "";
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
  area.append(ownerNoteEl(), modes);
  const err = h("p", { class: "composer-error", id: "composer-error", role: "alert", hidden: true });
  if (S.mode === "reply" && w === "template_only") {
    // The template picker (only for a closed reply window) loads when first needed.
    const slot = h("div", { class: "templates", id: "templates" }, h("p", { class: "muted", text: t("inbox.templates") + "…" }));
    import("./templates.js")
      .then((m) => slot.replaceWith(m.templatePicker(err)))
      .catch(() => {});
    area.append(slot, err);
    return area;
  }
  const disabled = S.mode === "reply" && w === "closed";
  const placeholder = S.mode === "note" ? t("inbox.note_placeholder") : t("inbox.placeholder");
  const ta = h("textarea", { id: "composer-text", rows: "1", placeholder, disabled, "aria-label": t("inbox.placeholder") });
  const canned = cannedReplies(ta);
  ta.addEventListener("keydown", (e) => {
    if (canned.onKey(e)) return;
    // Esc leaves the composer for the conversation's name, where the shortcuts work again.
    if (e.key === "Escape") {
      const name = paneEl.querySelector(".s-name");
      if (name) {
        name.tabIndex = -1;
        name.focus();
      }
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  ta.addEventListener("input", () => {
    autosize(ta);
    if (ta.value.trim()) typingSignal();
  });
  ta.addEventListener("paste", (e) => {
    const files = Array.from((e.clipboardData && e.clipboardData.files) || []);
    if (files.length && S.mode === "reply") {
      e.preventDefault();
      files.forEach(attach);
    }
  });
  const pop = h("div", { class: "emoji-pop", id: "emoji-pop", hidden: true }, EMOJI.map((x) => h("button", { type: "button", text: x })));
  pop.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    insertAtCursor(ta, b.textContent);
    pop.hidden = true;
  });
  const emojiBtn = h("button", { type: "button", class: "icon-btn", id: "emoji-btn", title: t("inbox.emoji"), "aria-label": t("inbox.emoji"), "aria-expanded": "false", "aria-controls": "emoji-pop", disabled }, icon("smile"));
  const showPop = (open) => {
    pop.hidden = !open;
    emojiBtn.setAttribute("aria-expanded", String(open));
    if (open) pop.querySelector("button")?.focus();
  };
  emojiBtn.addEventListener("click", () => showPop(pop.hidden));
  // Esc closes the popover and gives the focus back to its button.
  pop.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    e.preventDefault();
    e.stopPropagation();
    showPop(false);
    emojiBtn.focus();
  });
  const tools = [emojiBtn];
  if (S.mode === "reply") tools.push(...fileTools(disabled));
  const sendBtn = h("button", { type: "submit", class: "send", id: "send-btn", title: t("inbox.send"), "aria-label": t("inbox.send"), disabled }, icon("send", true));
  const form = h("form", { class: "composer", id: "composer" }, h("div", { class: "tools" }, tools), ta, sendBtn, canned.pop);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send();
  });
  // The emoji popover opens above the whole composer (the mode tabs stay free).
  area.append(h("div", { class: "confirm-slot", id: "confirm-slot" }), h("div", { class: "chips", id: "chips" }), form, err, pop);
  setTimeout(renderChips, 0);
  return area;
}

/** Replaces the composer (typed text is lost: only on a mode, window or status change). */
export function renderComposer() {
  const old = paneEl.querySelector("#composer-area");
  if (old && S.detail) old.replaceWith(composerEl());
}

export function setMode(mode) {
  S.mode = mode;
  renderComposer();
  const ta = $("#composer-text");
  if (ta) ta.focus();
}

function confirmForeign(other) {
  const slot = $("#confirm-slot");
  if (!slot) return;
  const yes = h("button", { type: "button", class: "primary", id: "confirm-send", text: t("inbox.send_anyway") });
  const no = h("button", { type: "button", text: t("common.cancel") });
  const bar = h("div", { class: "confirm-bar", role: "alert" }, h("span", { text: t("inbox.confirm_other").replace("{name}", userName(other)) }), no, yes);
  yes.addEventListener("click", () => {
    S.confirmedOther = S.current;
    slot.replaceChildren();
    send();
  });
  no.addEventListener("click", () => {
    slot.replaceChildren();
    const ta = $("#composer-text");
    if (ta) ta.focus();
  });
  slot.replaceChildren(bar);
  yes.focus();
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
      const m = await api("POST", "/api/v1/sessions/" + S.current + "/notes", { text });
      ta.value = "";
      autosize(ta);
      upsertMessage(m);
      pane.refresh();
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
  // A colleague owns it: reply only after saying so (once per conversation and owner).
  const other = otherOwner();
  if (other && S.confirmedOther !== S.current) return confirmForeign(other);
  const btn = $("#send-btn");
  btn.disabled = true;
  try {
    const m = await api("POST", "/api/v1/sessions/" + S.current + "/messages", { text, attachment_ids: ids });
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
