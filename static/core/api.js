// The JSON API client: same-origin cookie, CSRF header on writes, `{"error":{code,message}}`
// answers turned into ApiError. A 401 sends the browser to the login page.
import { lang, t } from "./i18n.js";

/** The page's CSRF token (a meta tag rendered by the server). */
export function csrf() {
  const m = document.querySelector('meta[name="csrf-token"]');
  return m ? m.getAttribute("content") : "";
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** `await api("POST", "/api/v1/…", body)`: the parsed answer, null for 204, or ApiError. */
export async function api(method, path, data) {
  // Errors come back in the page's language (the server's `localize` reads Accept-Language).
  const opts = { method, headers: { Accept: "application/json", "Accept-Language": lang }, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") opts.headers["X-CSRF-Token"] = csrf();
  if (data !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(data);
  }
  let r;
  try {
    r = await fetch(path, opts);
  } catch {
    throw new ApiError(0, "network", t("inbox.error") + " (network)");
  }
  if (r.status === 401) {
    window.location.href = "/login";
    throw new ApiError(401, "unauthorized", "not logged in");
  }
  if (r.status === 204) return null;
  let j;
  try {
    j = await r.json();
  } catch {
    j = null;
  }
  if (!r.ok) {
    const e = (j && j.error) || {};
    throw new ApiError(r.status, e.code || String(r.status), e.message || r.statusText || t("inbox.error"));
  }
  return j;
}

/**
 * Uploads one file as the raw request body (XMLHttpRequest, for its progress events) to
 * `POST url` (`/api/v1/attachments?…`). Returns `{xhr, done}`: `done` resolves with the
 * server's JSON answer or rejects with ApiError (code "aborted" after `xhr.abort()`).
 */
export function upload(url, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    xhr.setRequestHeader("Accept-Language", lang);
    xhr.setRequestHeader("X-Filename", encodeURIComponent(file.name || "file"));
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      let j;
      try {
        j = JSON.parse(xhr.responseText);
      } catch {
        j = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && j) return resolve(j);
      const e = (j && j.error) || {};
      const msg = e.message || (xhr.status === 404 ? t("inbox.not_available") : "HTTP " + xhr.status);
      reject(new ApiError(xhr.status, e.code || String(xhr.status), msg));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", t("inbox.error"))));
    xhr.addEventListener("abort", () => reject(new ApiError(0, "aborted", "aborted")));
  });
  xhr.send(file);
  return { xhr, done };
}
