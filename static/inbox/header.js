// The header of the session view: who, where, owner, status, and the actions (pick up,
// transfer, note, call, mute, archive, end, details).
import { api } from "../core/api.js";
import { h, icon } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { setMode } from "./composer.js";
import { blockDialog } from "./block.js";
import { callCustomer } from "./call.js";
import { endDialog, transferDialog } from "./dialogs.js";
import { renderList } from "./list.js";
import { S, iconImg, kindName, pane, paneEl, root, showError, userName } from "./state.js";

function actionBtn(action, iconName, label, onclick, primary, labelled) {
  const b = h(
    "button",
    { type: "button", class: "act" + (primary ? " primary" : "") + (labelled ? " labelled" : ""), dataset: { action }, title: label, "aria-label": label },
    icon(iconName),
    h("span", { class: "act-label", text: label }),
  );
  b.addEventListener("click", onclick);
  return b;
}

/** POST an action on the open session, then refresh it; errors go to a toast. */
async function act(path, data) {
  try {
    const r = await api("POST", "/api/v1/sessions/" + S.current + path, data);
    await pane.refresh();
    return r;
  } catch (e) {
    showError(null, e);
    throw e;
  }
}

async function muteToggle(muted) {
  try {
    await api("POST", "/api/v1/sessions/" + S.current + "/mute", { muted });
    S.detail.session.muted = muted;
    const r = S.rows.get(S.current);
    if (r) r.muted = muted;
    renderHeader();
    renderList();
  } catch (e) {
    showError(null, e);
  }
}

function callLink(kind, addr) {
  if (S.pbx && S.pbx.configured) return actionBtn("call", "phone", t("inbox.call"), callCustomer);
  const tel = kind === "whatsapp" && !addr.startsWith("+") ? "+" + addr : addr;
  const label = t("inbox.call");
  return h("a", { class: "act", href: "tel:" + tel, dataset: { action: "call" }, title: label, "aria-label": label }, icon("phone"), h("span", { class: "act-label", text: label }));
}

export function headerEl() {
  const d = S.detail;
  const s = d.session;
  const open = s.status === "open";
  const addr = (d.contact && d.contact.address) || s.contact_address;
  const phone = s.channel_kind === "sms" || s.channel_kind === "whatsapp";
  const sub = [
    addr !== s.contact_name ? addr : "",
    d.channel ? d.channel.name : kindName(s.channel_kind),
    s.assignee ? t("inbox.owner") + ": " + userName(s.assignee) : t("inbox.nobody"),
  ];
  if (!open) sub.push(t("inbox.closed") + (s.result ? " · " + s.result : ""));
  const back = h("a", { class: "icon-btn back", href: "/chat/external", id: "back", "aria-label": t("inbox.back") }, icon("back"));
  back.addEventListener("click", (e) => {
    e.preventDefault();
    pane.close(true);
  });
  const ignore = () => {}; // act() already showed the error
  const actions = h("div", { class: "s-actions", id: "s-actions" });
  // Only what this agent may do (the server computes it: docs/inbox.md, "Two agents").
  const may = d.allowed || { pickup: open && !s.assignee, transfer: open, end: open };
  if (may.pickup) actions.append(actionBtn("pickup", "check", t("inbox.pickup"), () => act("/pickup").catch(ignore), true));
  if (!open) actions.append(actionBtn("reopen", "unarchive", t("inbox.reopen"), () => act("/reopen").catch(ignore), true));
  if (may.transfer) actions.append(actionBtn("transfer", "transfer", t("inbox.transfer"), transferDialog, false, true));
  actions.append(actionBtn("note", "note", t("inbox.note"), () => setMode("note")));
  if (phone && addr) actions.append(callLink(s.channel_kind, addr));
  actions.append(actionBtn("mute", s.muted ? "bell" : "belloff", s.muted ? t("inbox.unmute") : t("inbox.mute"), () => muteToggle(!s.muted)));
  if (s.archived) actions.append(actionBtn("unarchive", "unarchive", t("inbox.unarchive"), () => act("/unarchive").catch(ignore)));
  else actions.append(actionBtn("archive", "archive", t("inbox.archive"), () => act("/archive").catch(ignore)));
  if (may.end) actions.append(actionBtn("end", "end", t("inbox.end"), endDialog, false, true));
  if (d.contact && !s.blocked) actions.append(actionBtn("block", "block", t("inbox.block"), blockDialog));
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

export function renderHeader() {
  const old = paneEl.querySelector(".s-head");
  if (old && S.detail) old.replaceWith(headerEl());
}
