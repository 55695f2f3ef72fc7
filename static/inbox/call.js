// Calling the customer: with a PBX linked the agent's desk phone rings first and then dials
// the customer (POST /sessions/{id}/call); without one the Call button is a tel: link.
import { api } from "../core/api.js";
import { t } from "../core/i18n.js";
import { toast } from "../core/toast.js";
import { S, pane, showError } from "./state.js";

/** Whether calls go through the PBX (GET /api/v1/pbx/status, read once at start). */
export async function loadPbx() {
  try {
    S.pbx = await api("GET", "/api/v1/pbx/status");
  } catch {
    S.pbx = null;
  }
}

export async function callCustomer() {
  const id = S.current;
  toast(t("inbox.calling"), "", {});
  try {
    const r = await api("POST", "/api/v1/sessions/" + id + "/call", {});
    toast(t("inbox.calling"), t("inbox.call_ringing").replace("{ext}", r.extension), {});
  } catch (e) {
    showError(null, e);
  }
  if (S.current === id) await pane.refresh();
}
