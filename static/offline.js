// The offline page ("Offline — reconnecting"), which the service worker (sw.js) shows in
// place of a page it could not load. It asks the server every few seconds and loads the page
// the person wanted as soon as it answers; "Try again" asks at once.
const WAIT_MS = 3000;

function again() {
  // Served at the address the person opened; opened directly (/offline), go to the start.
  if (location.pathname === "/offline") location.replace("/");
  else location.reload();
}

async function reachable() {
  try {
    const r = await fetch("/healthz", { cache: "no-store" });
    return r.ok;
  } catch {
    return false;
  }
}

async function poll() {
  if (await reachable()) again();
  else setTimeout(poll, WAIT_MS);
}

const retry = document.getElementById("offline-retry");
if (retry) retry.addEventListener("click", again);
window.addEventListener("online", () => poll());
setTimeout(poll, WAIT_MS);
