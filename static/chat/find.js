// The search box: colleagues (start a 1:1 chat) and messages (jump to one).
import { api } from "../core/api.js";
import { h } from "../core/dom.js";
import { phoneDot } from "../core/phone.js";
import { debounce, fmtStamp } from "../core/time.js";
import { openChat } from "./conversation.js";
import { loadList } from "./list.js";
import { $, showError, tc } from "./state.js";

const runFind = debounce(async () => {
  const q = $("ic-find").value.trim();
  const box = $("ic-found");
  if (!q) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const [people, found] = await Promise.all([
    api("GET", "/api/v1/directory?limit=8&q=" + encodeURIComponent(q)).catch(() => []),
    q.length >= 2 ? api("GET", "/api/v1/search?limit=20&q=" + encodeURIComponent(q)).catch(() => ({ results: [] })) : { results: [] },
  ]);
  if ($("ic-find").value.trim() !== q) return;
  box.replaceChildren();
  box.append(h("h4", { text: tc("colleagues") }));
  const pl = h("ul", { class: "ic-found-list ic-people-found" });
  for (const p of people) {
    pl.append(
      h(
        "li",
        { class: "ic-person", tabindex: 0, "data-user-id": p.id, onclick: () => startDirect(p.id) },
        h("span", { class: "ic-name" }, p.display_name, phoneDot(p.id)),
        h("span", { class: "ic-meta", text: [p.extension, p.email].filter(Boolean).join(" · ") }),
      ),
    );
  }
  if (!people.length) pl.append(h("li", { class: "ic-none", text: tc("no_results") }));
  box.append(pl);
  box.append(h("h4", { text: tc("messages") }));
  const ml = h("ul", { class: "ic-found-list ic-hits" });
  for (const hit of found.results) {
    ml.append(
      h(
        "li",
        { class: "ic-hit", tabindex: 0, "data-link": hit.link, onclick: () => jump(hit) },
        h("span", { class: "ic-item-top" }, h("span", { class: "ic-name", text: hit.title }), h("span", { class: "ic-time", text: fmtStamp(hit.at) })),
        h("span", { class: "ic-meta", text: hit.author_name }),
        h("span", { class: "ic-snippet", text: hit.snippet }),
      ),
    );
  }
  if (!found.results.length) ml.append(h("li", { class: "ic-none", text: tc("no_results") }));
  box.append(ml);
  box.hidden = false;
}, 200);

function clearFind() {
  $("ic-find").value = "";
  runFind();
}

function jump(hit) {
  if (hit.kind === "chat") {
    clearFind();
    history.pushState(null, "", hit.link);
    openChat(hit.chat_id, false, hit.message_id);
  } else {
    location.href = hit.link;
  }
}

async function startDirect(uid) {
  try {
    const v = await api("POST", "/api/v1/chats", { user_id: uid });
    clearFind();
    await loadList();
    openChat(v.chat.id, true);
  } catch (e) {
    showError("ic-error", e.message);
  }
}

export function wireFind() {
  $("ic-find").addEventListener("input", runFind);
  $("ic-find").addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.target.value = "";
      runFind();
    }
  });
}
