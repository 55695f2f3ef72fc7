// Website chat channel page: a live preview of the widget's look (title, greeting, colour)
// that follows the admin's typing, and an early word on origins that are not scheme://host[:port].
// CSP-clean: the colour goes in through CSSOM (style.setProperty), never a style attribute.
const byId = (id) => document.getElementById(id);

const preview = byId("lc-preview");
const title = byId("lc-title");
const greeting = byId("lc-greeting");
const accent = byId("lc-accent");
const origins = byId("lc-origins");
const originError = byId("lc-origins-error");

function paint() {
  if (!preview) return;
  byId("lc-preview-title").textContent = title.value;
  byId("lc-preview-greeting").textContent = greeting.value;
  if (/^#[0-9a-fA-F]{3,8}$/.test(accent.value)) {
    preview.parentElement.style.setProperty("--lc-accent", accent.value);
  }
}

// The same rule the server applies: http(s), a host, no path, query or fragment.
function badOrigin(v) {
  let u;
  try {
    u = new URL(v);
  } catch {
    return true;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return true;
  if (!u.hostname) return true;
  return u.pathname !== "/" || u.search !== "" || u.hash !== "";
}

function checkOrigins() {
  if (!origins || !originError) return;
  const bad = origins.value
    .split(/[\s,]+/)
    .filter((o) => o !== "")
    .filter(badOrigin);
  if (bad.length === 0) {
    originError.hidden = true;
    originError.textContent = "";
    origins.removeAttribute("aria-invalid");
  } else {
    originError.hidden = false;
    originError.textContent = `${bad[0]} ${originError.dataset.msg}`;
    origins.setAttribute("aria-invalid", "true");
  }
}

if (preview) {
  for (const el of [title, greeting, accent]) el.addEventListener("input", paint);
  paint();
}
if (origins) {
  origins.addEventListener("input", checkOrigins);
}
