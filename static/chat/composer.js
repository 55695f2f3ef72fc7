// The message composer: Enter sends (Shift+Enter is a new line), typing notices, @mention
// autocomplete in groups, emoji.
import { api } from "../core/api.js";
import { h } from "../core/dom.js";
import { addMessage } from "./conversation.js";
import { renderPending } from "./files.js";
import { $, me, showError, st } from "./state.js";

const EMOJI = "😀 😂 😊 😍 😉 😎 🤔 😅 😢 😮 🙏 👍 👎 👏 🙌 💪 🎉 ✅ ❌ ⚠️ ❤️ 🔥 ☕ 📞".split(" ");
const input = () => $("ic-input");

function autoGrow() {
  const el = input();
  el.style.height = "auto";
  el.style.height = Math.min(el.scrollHeight, 160) + "px";
}

async function sendMessage() {
  if (!st.current) return;
  const el = input();
  const text = el.value;
  if (!text.trim() && !st.pending.length) return;
  showError("ic-error", "");
  $("ic-send").disabled = true;
  try {
    const m = await api("POST", "/api/v1/chats/" + st.current.chat.id + "/messages", {
      text,
      attachment_ids: st.pending.map((p) => p.id),
    });
    el.value = "";
    autoGrow();
    st.pending = [];
    renderPending();
    addMessage(m);
  } catch (e) {
    showError("ic-error", e.message);
  } finally {
    $("ic-send").disabled = false;
    el.focus();
  }
}

// ---- @mention autocomplete (groups): the word before the caret starting with "@".
let mentionSel = 0;

function mentionQuery() {
  const el = input();
  const before = el.value.slice(0, el.selectionStart);
  const m = /(^|[\s([{"'])@([A-Za-z0-9._@-]*)$/.exec(before);
  return m ? m[2].toLowerCase() : null;
}

function mentionCandidates(q) {
  if (!st.current || st.current.chat.kind !== "group") return [];
  return st.current.members
    .filter((x) => x.user.id !== me && (x.user.username.toLowerCase().startsWith(q) || x.user.display_name.toLowerCase().includes(q)))
    .slice(0, 8);
}

function updateMentions() {
  const box = $("ic-mentions");
  const q = mentionQuery();
  const cands = q === null ? [] : mentionCandidates(q);
  if (!cands.length) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  mentionSel = Math.min(mentionSel, cands.length - 1);
  const option = (x, i) =>
    h(
      "li",
      {
        role: "option",
        class: "ic-mention-opt" + (i === mentionSel ? " ic-sel" : ""),
        "data-username": x.user.username,
        onmousedown: (e) => {
          e.preventDefault();
          pickMention(x.user.username);
        },
      },
      h("span", { class: "ic-name", text: x.user.display_name }),
      h("span", { class: "ic-meta", text: " @" + x.user.username }),
    );
  box.replaceChildren(...cands.map(option));
  box.hidden = false;
}

function pickMention(username) {
  const el = input();
  const pos = el.selectionStart;
  const before = el.value.slice(0, pos).replace(/@([A-Za-z0-9._@-]*)$/, "@" + username + " ");
  el.value = before + el.value.slice(pos);
  el.selectionStart = el.selectionEnd = before.length;
  $("ic-mentions").hidden = true;
  el.focus();
}

/** Arrow keys, Enter/Tab and Esc while the mention list is open; true if it took the key. */
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
  if (e.key === "Escape") {
    box.hidden = true;
    return true;
  }
  return false;
}

function insertText(s) {
  const el = input();
  const a = el.selectionStart;
  const b = el.selectionEnd;
  el.value = el.value.slice(0, a) + s + el.value.slice(b);
  el.selectionStart = el.selectionEnd = a + s.length;
  el.focus();
}

export function wireComposer() {
  const el = input();
  $("ic-composer").addEventListener("submit", (e) => {
    e.preventDefault();
    sendMessage();
  });
  el.addEventListener("keydown", (e) => {
    if (mentionKey(e)) return;
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    }
  });
  el.addEventListener("input", () => {
    autoGrow();
    updateMentions();
    const now = Date.now();
    if (st.current && el.value.trim() && now - st.lastTypingSent > 3000) {
      st.lastTypingSent = now;
      api("POST", "/api/v1/chats/" + st.current.chat.id + "/typing", {}).catch(() => {});
    }
  });
  const panel = $("ic-emoji-panel");
  const emoji = (e) =>
    h("button", {
      type: "button",
      class: "ic-emo",
      text: e,
      onclick: () => {
        insertText(e);
        panel.hidden = true;
      },
    });
  panel.append(...EMOJI.map(emoji));
  $("ic-emoji").addEventListener("click", (e) => {
    e.stopPropagation();
    panel.hidden = !panel.hidden;
    $("ic-emoji").setAttribute("aria-expanded", String(!panel.hidden));
  });
  document.addEventListener("click", (e) => {
    if (!e.target.closest("#ic-emoji-panel, #ic-emoji")) panel.hidden = true;
  });
  // Esc closes the emoji panel and gives the focus back to its button.
  panel.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    e.preventDefault();
    panel.hidden = true;
    $("ic-emoji").focus();
  });
}
