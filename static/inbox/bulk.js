// Bulk actions over the ticked conversations (a spam burst): archive or end them all in one
// request. The server changes all or nothing; its refusal is shown above the list.
import { api } from "../core/api.js";
import { $ } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { toast } from "../core/toast.js";
import { loadList, renderList } from "./list.js";
import { S, pane, showError } from "./state.js";

export async function bulkAction(action) {
  const ids = Array.from(S.selected);
  if (!ids.length) return;
  const err = $("#list-error");
  err.hidden = true;
  for (const b of document.querySelectorAll("#bulk-bar button")) b.disabled = true;
  try {
    const r = await api("POST", "/api/v1/sessions/bulk", { ids, action });
    S.selected.clear();
    toast(t(action === "archive" ? "inbox.bulk_archived" : "inbox.bulk_closed").replace("{n}", r.changed), "", {});
    await loadList(false);
    if (S.current && ids.includes(S.current)) await pane.refresh();
  } catch (e) {
    showError(err, e);
  } finally {
    for (const b of document.querySelectorAll("#bulk-bar button")) b.disabled = false;
    renderList();
  }
}
