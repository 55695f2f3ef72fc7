// Blocking a customer from the conversation (a spammer): a reason, then their later messages
// are dropped before storage. Lifting a block is for admins (Admin → Block list).
import { api } from "../core/api.js";
import { h } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { toast } from "../core/toast.js";
import { dialog } from "./dialogs.js";
import { S, pane } from "./state.js";

export function blockDialog() {
  const d = S.detail;
  if (!d || !d.contact) return;
  const c = d.contact;
  const id = S.current;
  const reason = h("input", { id: "block-reason", maxlength: "500", required: true, value: t("inbox.block_spam") });
  const fields = [h("p", { text: t("inbox.block_explain").replace("{name}", c.name || c.address) }), h("label", {}, t("inbox.block_reason"), reason)];
  dialog(t("inbox.block"), fields, t("inbox.block"), async () => {
    await api("POST", "/api/v1/contacts/" + c.id + "/block", { reason: reason.value.trim() });
    toast(t("inbox.blocked_done").replace("{name}", c.name || c.address), "", {});
    // The dialog closes as soon as the server has accepted; the pane redraws behind it.
    if (S.current === id) pane.refresh().catch(() => {});
  });
}
