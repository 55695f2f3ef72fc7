// Groups: the settings panel (rename, members, admins, leave) and the "new group" dialog.
import { api } from "../core/api.js";
import { h } from "../core/dom.js";
import { debounce } from "../core/time.js";
import { closeChat, openChat, reloadView } from "./conversation.js";
import { loadList } from "./list.js";
import { $, me, showError, st, tc, ui } from "./state.js";

function memberEl(m, admin) {
  const small = (text, cls, onclick) => h("button", { type: "button", class: "ic-small" + cls, text, onclick });
  return h(
    "li",
    { class: "ic-member", "data-user-id": m.user.id },
    h("span", { class: "ic-name", text: m.user.display_name + (m.user.id === me ? " (" + tc("you") + ")" : "") }),
    m.admin ? h("span", { class: "ic-tag", text: tc("admin") }) : null,
    admin && m.user.id !== me && !m.admin ? small(tc("make_admin"), "", () => panelOp("POST", "/admins", { user_id: m.user.id })) : null,
    admin && m.user.id !== me ? small(tc("remove"), " ic-danger", () => panelOp("DELETE", "/members/" + m.user.id)) : null,
  );
}

function renderPanel() {
  const v = st.current;
  if (!v) return;
  const admin = v.chat.is_admin;
  $("ic-rename").hidden = !admin;
  $("ic-rename-input").value = v.chat.name;
  $("ic-add").hidden = !admin;
  showError("ic-panel-error", "");
  $("ic-members").replaceChildren(...v.members.map((m) => memberEl(m, admin)));
}

async function panelOp(method, suffix, data) {
  try {
    await api(method, "/api/v1/chats/" + st.current.chat.id + suffix, data);
    await reloadView();
  } catch (e) {
    showError("ic-panel-error", e.message);
  }
}

function wirePanel() {
  $("ic-settings").addEventListener("click", () => {
    $("ic-panel").hidden = !$("ic-panel").hidden;
    if (!$("ic-panel").hidden) renderPanel();
  });
  $("ic-panel-close").addEventListener("click", () => {
    $("ic-panel").hidden = true;
  });
  $("ic-rename").addEventListener("submit", (e) => {
    e.preventDefault();
    panelOp("PATCH", "", { name: $("ic-rename-input").value });
  });
  $("ic-leave").addEventListener("click", async () => {
    try {
      await api("POST", "/api/v1/chats/" + st.current.chat.id + "/leave", {});
      history.pushState(null, "", "/chat/internal");
      closeChat();
      loadList();
    } catch (e) {
      showError("ic-panel-error", e.message);
    }
  });
  const addFind = $("ic-add-find");
  const found = $("ic-add-found");
  const addEl = (p) =>
    h(
      "li",
      {
        class: "ic-person",
        tabindex: 0,
        onclick: async () => {
          await panelOp("POST", "/members", { user_ids: [p.id] });
          addFind.value = "";
          found.replaceChildren();
        },
      },
      h("span", { class: "ic-name", text: p.display_name }),
      h("span", { class: "ic-meta", text: " " + (p.extension || "") }),
    );
  addFind.addEventListener(
    "input",
    debounce(async () => {
      const q = addFind.value.trim();
      if (!q) {
        found.replaceChildren();
        return;
      }
      const people = await api("GET", "/api/v1/directory?limit=8&q=" + encodeURIComponent(q)).catch(() => []);
      const ids = new Set(st.current.members.map((m) => m.user.id));
      found.replaceChildren(...people.filter((p) => !ids.has(p.id)).map(addEl));
    }, 200),
  );
}

// ---- new group dialog
let everyone = [];
const chosen = new Set();

function renderPeople() {
  const q = $("ic-group-filter").value.trim().toLowerCase();
  const list = everyone.filter(
    (p) => !q || p.display_name.toLowerCase().includes(q) || p.username.toLowerCase().includes(q) || p.extension.includes(q) || p.email.toLowerCase().includes(q),
  );
  const personEl = (p) => {
    const cb = h("input", {
      type: "checkbox",
      value: p.id,
      "data-username": p.username,
      checked: chosen.has(p.id),
      onchange: (e) => {
        if (e.target.checked) chosen.add(p.id);
        else chosen.delete(p.id);
      },
    });
    return h(
      "li",
      {},
      h("label", { class: "ic-check" }, cb, h("span", { text: " " + p.display_name }), h("span", { class: "ic-meta", text: p.extension ? " · " + p.extension : "" })),
    );
  };
  $("ic-group-people").replaceChildren(...list.map(personEl));
}

function wireNewGroup() {
  const dlg = $("ic-group-dialog");
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
  $("ic-group-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const v = await api("POST", "/api/v1/chats", { name: $("ic-group-name").value, member_ids: Array.from(chosen) });
      dlg.close();
      await loadList();
      openChat(v.chat.id, true);
    } catch (err) {
      showError("ic-group-error", err.message);
    }
  });
}

export function wireGroups() {
  wirePanel();
  wireNewGroup();
}

ui.renderPanel = renderPanel;
