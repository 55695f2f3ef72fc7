// The conversation: message bubbles with files, ticks and retry, day separators, paging back.
import { api } from "../core/api.js";
import { $, h, icon } from "../core/dom.js";
import { t, timelineText } from "../core/i18n.js";
import { callSummary } from "../core/phone.js";
import { fmtClock, fmtDateTime, fmtDay, fmtSize } from "../core/time.js";
import { S, me, showError, userName } from "./state.js";

// Messages per page: the newest 50 fill several phone screens; "Earlier messages" loads more.
export const PAGE = 50;
const TICKS = { queued: "◷", unknown: "?", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "⚠" };
const senderKey = (m) => m.direction + ":" + (m.author || 0);

function dayOf(ts) {
  const d = new Date(ts);
  return d.getFullYear() + "-" + d.getMonth() + "-" + d.getDate();
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
    } catch {
      /* keep as is */
    }
  };
  if (mime.startsWith("image/")) {
    const img = h("img", { src: url + "/thumbnail", alt: f.name });
    // The picture gets its height only when it loads: keep the newest message in view.
    img.addEventListener("load", keepBottom);
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
      import("./dialogs.js").then((m) => m.lightbox(url, f.name));
    });
    return el;
  }
  if (mime.startsWith("audio/")) {
    el = h("audio", { class: "file media", controls: true, preload: "metadata", src: url });
  } else if (mime.startsWith("video/")) {
    el = h("video", { class: "file media", controls: true, preload: "metadata", src: url });
  } else if ((mime.startsWith("text/") || mime === "application/json") && f.size <= 256 * 1024) {
    const pre = h("pre", { class: "preview", text: "…" });
    el = h("div", { class: "file textfile" }, h("a", { href: url, download: f.name, text: "📄 " + f.name + " · " + fmtSize(f.size) }), pre);
    fetch(url, { credentials: "same-origin" })
      .then(async (r) => {
        if (r.status === 410 || r.status === 404) return el.replaceWith(expired());
        const txt = await r.text();
        pre.textContent = txt.length > 3000 ? txt.slice(0, 3000) + "\n…" : txt;
      })
      .catch(() => {});
    return el;
  } else {
    el = h(
      "a",
      { class: "file download", href: url, download: f.name },
      h("span", { class: "file-ico", text: "📄" }),
      h("span", { class: "file-name", text: f.name }),
      h("span", { class: "file-size", text: fmtSize(f.size) }),
    );
  }
  checkGone(el);
  return el;
}

// A shared location carries an OpenStreetMap link (docs/providers.md §2.2): make it a link.
const MAP = "https://www.openstreetmap.org/";
function textEl(text) {
  const at = text.startsWith("[location]") ? text.indexOf(MAP) : -1;
  if (at < 0) return h("div", { class: "text", text });
  const url = text.slice(at).split(/\s/)[0];
  return h("div", { class: "text" }, text.slice(0, at), h("a", { href: url, target: "_blank", rel: "noopener", text: t("inbox.open_map") }));
}

function msgEl(m, showSender) {
  const cls = ["msg", m.direction, showSender ? "first" : ""].filter(Boolean).join(" ");
  let sender = null;
  if (showSender) {
    const name = m.direction === "in" ? (S.detail && S.detail.session.contact_name) || "" : m.author ? userName(m.author) : t("inbox.automatic");
    sender = h("div", { class: "sender", text: m.direction === "note" ? t("inbox.internal_note") + " · " + name : name });
  }
  const tick = m.direction === "out" ? h("span", { class: "tick " + m.status, title: t("inbox.status_" + m.status) || m.status, text: TICKS[m.status] || "" }) : null;
  const tpl = m.template
    ? h("div", {
        class: "tpl",
        text: "▤ " + m.template.name + " (" + m.template.language + ")" + (m.template.params && m.template.params.length ? " · " + m.template.params.join(", ") : ""),
      })
    : null;
  // A reply to an earlier message shows what it answers (WhatsApp reply context).
  const quote = m.quote ? h("blockquote", { class: "quote", "aria-label": t("inbox.quoted"), text: m.quote.text }) : null;
  const bubble = h(
    "div",
    { class: "bubble" },
    sender,
    quote,
    (m.files || []).map(fileEl),
    tpl,
    // An automatic reply (no author): labelled as such in every bubble.
    m.direction === "out" && !m.author ? h("span", { class: "auto-label", text: t("inbox.auto_reply") }) : null,
    m.text ? textEl(m.text) : null,
    h(
      "div",
      { class: "meta" },
      // The customer edited the message (Messenger): the first version stays readable.
      m.edited ? h("span", { class: "edited", tabindex: "0", title: t("inbox.edited_original").replace("{text}", m.edited.original), "aria-label": t("inbox.edited_original").replace("{text}", m.edited.original), text: t("inbox.edited") }) : null,
      h("time", { dataset: { ts: m.created }, title: fmtDateTime(m.created), text: fmtClock(m.created) }),
      tick,
    ),
  );
  const out = h("div", { class: cls, dataset: { id: m.id, status: m.status } }, bubble);
  if (m.reaction) {
    const label = t("inbox.customer_reacted").replace("{emoji}", m.reaction);
    bubble.append(h("span", { class: "reaction", role: "img", title: label, "aria-label": label, text: m.reaction }));
  }
  if (m.status === "queued" && m.retry) {
    // The provider refused for a passing reason: say so, with when it is tried again.
    const why = t("inbox.retrying").replace("{n}", String(m.retry.attempt)).replace("{at}", fmtClock(m.retry.next_at));
    out.append(h("div", { class: "retrying", role: "status", text: "⟳ " + why + (m.error ? " · " + m.error : "") }));
  }
  if (m.status === "failed" || m.status === "unknown") {
    const err = h("div", { class: "fail" }, h("span", { text: "⚠ " + t("inbox.failed") + (m.error ? ": " + m.error : "") }));
    const btn = h("button", { type: "button", class: "retry" }, icon("retry"), t("inbox.retry"));
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        upsertMessage(await api("POST", "/api/v1/messages/" + m.id + "/retry"));
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

const daySeparator = (ts) => h("div", { class: "day" }, h("span", { text: fmtDay(ts) }));

// What happened to the conversation, shown in it (as Chatwoot does): pick-up, transfers with
// their note, the end. The full list stays in Details → Timeline.
const ACTIVITY = ["picked_up", "transferred", "closed", "closed_inactive", "snoozed", "woke", "auto_reply_skipped", "phone_call", "survey_sent", "survey_skipped", "survey_invalid", "rated"];
const AUTO_KIND = { welcome: "inbox.auto_welcome", out_of_hours: "inbox.auto_out_of_hours", busy: "inbox.auto_busy" };
const SURVEY_INVALID = { reasked: "tl.d.survey_reasked", gave_up: "tl.d.survey_gave_up" };
/** A timeline entry's detail as a person reads it (dates, which automatic reply). */
export function activityDetail(e, sep) {
  if (e.kind === "snoozed" && e.detail) return sep + fmtDateTime(Number(e.detail));
  if (e.kind === "phone_call" && e.detail) return sep + callSummary(e.detail);
  if ((e.kind === "auto_reply" || e.kind === "auto_reply_skipped") && e.detail) {
    // "busy.template_gone": the WhatsApp template chosen for it was deleted.
    const [k, why] = e.detail.split(".");
    return sep + (AUTO_KIND[k] ? t(AUTO_KIND[k]) : k) + (why === "template_gone" ? sep + t("inbox.auto_template_gone") : "");
  }
  if (e.kind === "survey_skipped" && e.detail === "template_gone") return sep + t("inbox.auto_template_gone");
  if (e.kind === "survey_invalid" && SURVEY_INVALID[e.detail]) return sep + t(SURVEY_INVALID[e.detail]);
  return timelineText(e, sep);
}
function activities() {
  return ((S.detail && S.detail.timeline) || []).filter((e) => ACTIVITY.includes(e.kind));
}
function activityEl(e) {
  if (e.kind === "phone_call") {
    // A call the PBX reported, between the messages (direction, number, extension, outcome).
    let disp = "";
    try {
      disp = JSON.parse(e.detail).disposition || "";
    } catch {
      /* an old or odd entry: words only */
    }
    return h("div", { class: "activity phone-call call-" + disp, dataset: { tl: e.id, kind: e.kind } }, h("time", { title: fmtDateTime(e.at), text: fmtClock(e.at) + " " }), "☎ " + callSummary(e.detail));
  }
  const who = e.actor ? userName(e.actor) + " · " : "";
  return h("div", { class: "activity", dataset: { tl: e.id, kind: e.kind } }, h("time", { title: fmtDateTime(e.at), text: fmtClock(e.at) + " " }), who + t("tl." + e.kind) + activityDetail(e, " "));
}

/** Keeps the newest message in view while the agent is at the bottom (S.stick). */
export function keepBottom() {
  const box = $("#messages");
  if (box && S.stick) box.scrollTop = box.scrollHeight;
}

export function renderMessages() {
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
  const acts = activities();
  let ai = 0;
  for (const m of list) {
    while (ai < acts.length && acts[ai].at <= m.created) {
      nodes.push(activityEl(acts[ai++]));
      prev = "";
    }
    const d = dayOf(m.created);
    if (d !== day) {
      nodes.push(daySeparator(m.created));
      day = d;
      prev = "";
    }
    nodes.push(msgEl(m, senderKey(m) !== prev));
    prev = senderKey(m);
  }
  while (ai < acts.length) nodes.push(activityEl(acts[ai++]));
  box.replaceChildren(...nodes);
  S.timelineSeen = ((S.detail && S.detail.timeline) || []).length;
}

async function loadEarlier(before) {
  const box = $("#messages");
  const id = S.current;
  try {
    const older = await api("GET", "/api/v1/sessions/" + id + "/messages?limit=" + PAGE + "&before=" + before);
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

const nearBottom = (box) => box.scrollHeight - box.scrollTop - box.clientHeight < 120;

// Delivery progress only moves forward: a POST answer ("queued") may arrive after the
// live event that already says "sent". A retry (failed/unknown -> queued) is a real restart.
const PROGRESS = { queued: 0, sent: 1, delivered: 2, read: 3 };
function isStale(prev, m) {
  if (!prev || !(prev.status in PROGRESS) || !(m.status in PROGRESS)) return false;
  // The POST answer ("queued") after the live event that says it is being retried.
  if (prev.status === "queued" && m.status === "queued" && prev.retry && !m.retry) return true;
  return PROGRESS[m.status] < PROGRESS[prev.status];
}

/** A new or changed message of the open session: replaced in place or appended. */
export function upsertMessage(m) {
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
    const newDay = !before || dayOf(before.created) !== dayOf(m.created);
    if (newDay) box.append(daySeparator(m.created));
    box.append(msgEl(m, newDay || senderKey(before) !== senderKey(m)));
  }
  if (stick) {
    S.stick = true;
    box.scrollTop = box.scrollHeight;
  }
}
