// Files for the next message: uploaded first (progress bar), then sent as ids with it.
import { upload } from "../core/api.js";
import { h, icon } from "../core/dom.js";
import { $, showError, st, tc } from "./state.js";

export function renderPending() {
  $("ic-pending").replaceChildren(
    ...st.pending.map((p, i) =>
      h(
        "span",
        { class: "ic-chip" },
        h("span", { class: "ic-file-link" }, icon("clip"), p.name),
        h("button", {
          type: "button",
          class: "ic-icon",
          text: "✕",
          onclick: () => {
            st.pending.splice(i, 1);
            renderPending();
          },
        }),
      ),
    ),
  );
}

async function uploadAll(files) {
  const bar = $("ic-progress");
  for (const f of files) {
    const job = upload("/api/v1/attachments?scope=internal", f, (part) => {
      bar.hidden = false;
      bar.value = Math.round(100 * part);
    });
    try {
      st.pending.push(await job.done);
      renderPending();
    } catch (e) {
      showError("ic-error", e.message);
    } finally {
      bar.hidden = true;
    }
  }
}

export function wireFiles() {
  const unavailable = () => {
    if (st.features.attachments) return false;
    showError("ic-error", tc("files_unavailable"));
    return true;
  };
  $("ic-attach").addEventListener("click", () => {
    if (!unavailable()) $("ic-file").click();
  });
  $("ic-file").addEventListener("change", (e) => {
    uploadAll(e.target.files);
    e.target.value = "";
  });
  const dropZone = $("ic-chat");
  dropZone.addEventListener("dragover", (e) => {
    e.preventDefault();
    dropZone.classList.add("ic-drop");
  });
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("ic-drop"));
  dropZone.addEventListener("drop", (e) => {
    e.preventDefault();
    dropZone.classList.remove("ic-drop");
    if (!unavailable()) uploadAll(e.dataTransfer.files);
  });
}
