// Files for the next reply: each is uploaded at once (progress bar in its chip), and the reply
// carries the ids of the finished ones.
import { upload } from "../core/api.js";
import { $, h } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { fmtSize } from "../core/time.js";
import { S } from "./state.js";

const percent = (p) => Math.round(p.progress * 100);

export function renderChips() {
  const box = $("#chips");
  if (!box) return;
  box.replaceChildren(
    ...S.pending.map((p) => {
      const bar = h("div", { class: "bar" }, h("div", { class: "fill" }));
      bar.firstChild.style.width = percent(p) + "%"; // CSSOM: allowed by the CSP
      const x = h("button", { type: "button", class: "chip-x", "aria-label": t("inbox.remove"), text: "×" });
      x.addEventListener("click", () => {
        if (p.xhr && !p.id) p.xhr.abort();
        S.pending = S.pending.filter((q) => q !== p);
        renderChips();
      });
      const cls = "chip" + (p.error ? " bad" : p.id ? " done" : " busy");
      return h(
        "div",
        { class: cls, dataset: { progress: percent(p) } },
        p.preview ? h("img", { src: p.preview, alt: "" }) : h("span", { class: "file-ico", text: "📄" }),
        h(
          "div",
          { class: "chip-body" },
          h("div", { class: "chip-name", text: p.name }),
          p.error ? h("div", { class: "chip-err", text: p.error }) : h("div", { class: "chip-size", text: fmtSize(p.size) }),
          p.id || p.error ? null : bar,
        ),
        x,
      );
    }),
  );
}

/** Starts uploading `file` for the open session's channel. */
export function attach(file) {
  if (!S.detail || !S.detail.channel) return;
  const p = { name: file.name || "file", size: file.size, progress: 0, id: null, error: null, xhr: null };
  if ((file.type || "").startsWith("image/")) p.preview = URL.createObjectURL(file);
  S.pending.push(p);
  renderChips();
  const job = upload("/api/v1/attachments?channel_id=" + S.detail.channel.id, file, (f) => {
    p.progress = f;
    const chip = $("#chips") && $("#chips").children[S.pending.indexOf(p)];
    const fill = chip && chip.querySelector(".fill");
    if (fill) fill.style.width = percent(p) + "%";
    if (chip) chip.dataset.progress = String(percent(p));
  });
  p.xhr = job.xhr;
  job.done.then(
    (j) => {
      p.id = j.id;
      p.progress = 1;
      renderChips();
    },
    (e) => {
      if (e.code === "aborted") return;
      p.error = e.message;
      renderChips();
    },
  );
}
