/* Reciprocity widgets UI: the modal, rendered in a shadow root so host CSS cannot
   reach it and it cannot reach the host. Loaded by embed.js only when needed. */
const DAY = 864e5, KEY = "rw"; // the one localStorage key, shared with embed.js
const events = [];
let beaconUrl;

// A page view's events leave in one beacon when the page is hidden (tab switch,
// navigation, close): text/plain, so no preflight.
addEventListener("visibilitychange", () => {
  if (events.length && document.visibilityState === "hidden") {
    navigator.sendBeacon(beaconUrl, JSON.stringify({ events: events.splice(0) }));
  }
});

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text != null) node.textContent = text; // never innerHTML: copy may hold anything
  return node;
}

function remember(widgetId, days) {
  try {
    const state = JSON.parse(localStorage.getItem(KEY) || "{}") || {};
    state.q = state.q || {};
    state.q[widgetId] = Date.now() + days * DAY;
    localStorage.setItem(KEY, JSON.stringify(state));
  } catch (e) { /* storage off: the widget may show again, nothing breaks */ }
}

async function sheet(href) {
  const css = new CSSStyleSheet();
  css.replaceSync(await (await fetch(href)).text());
  return css;
}

/** Render widget `w` as a modal and handle its sign-up. */
export async function show({ cfg, w, base, site, data }) {
  beaconUrl = `${base}/api/v1/sites/${encodeURIComponent(site)}/events`;
  const track = (type) => events.push({ widget: w.id, type });
  const t = cfg.strings[w.lang] || Object.values(cfg.strings)[0];
  const host = el("div", { "data-reciprocity-widget": w.id });
  const root = host.attachShadow({ mode: "open" });
  root.adoptedStyleSheets = [await sheet(base + cfg.css)];
  const before = document.activeElement;

  const backdrop = el("div", { class: "backdrop" });
  const dialog = el("div", { class: "dialog", role: "dialog", "aria-modal": "true",
    "aria-labelledby": "rw-title", "aria-describedby": "rw-desc", lang: w.lang });
  const x = el("button", { type: "button", class: "x", "aria-label": t.close }, "×");
  const title = el("h2", { id: "rw-title" }, data.title || w.title);
  const desc = el("p", { id: "rw-desc" }, data.description || w.description);
  const form = el("form", { novalidate: "" });
  const label = el("label", { for: "rw-email" }, t.email_label);
  const email = el("input", { id: "rw-email", type: "email", name: "email",
    autocomplete: "email", required: "" });
  const trap = el("input", { class: "hp", name: "website", tabindex: "-1",
    autocomplete: "off", "aria-hidden": "true" });
  const err = el("p", { class: "err", role: "alert" });
  const submit = el("button", { type: "submit", class: "primary" }, w.button);
  const no = el("button", { type: "button", class: "no" }, t.no_thanks);
  const ok = el("p", { class: "ok", role: "status" });
  let consent = null;
  form.append(label, email, trap);
  if (cfg.require_consent) {
    const box = el("label", { class: "consent" });
    consent = el("input", { type: "checkbox", name: "consent" });
    box.append(consent, document.createTextNode(" " + (cfg.consent_text || t.consent)));
    form.append(box);
  }
  form.append(err, el("div", { class: "actions" }));
  form.lastChild.append(submit, no);
  dialog.append(x, title, desc, form, ok);
  backdrop.append(dialog);
  root.append(backdrop);
  document.body.append(host);
  track("impression");
  // "open": the visitor starts on the form, here or from a two-step button.
  form.addEventListener("input", () => track("open"), { once: true });
  email.focus();

  function close() {
    if (!host.isConnected) return;
    host.remove();
    document.removeEventListener("keydown", onKey, true);
    if (!ok.textContent) {
      remember(w.id, w.quiet_days_after_close);
      track("close");
    }
    if (before && before.focus) before.focus();
  }
  function onKey(e) {
    if (e.key === "Escape") { e.preventDefault(); close(); }
    if (e.key !== "Tab") return;
    // Keep focus inside the dialog while it is open.
    const items = [...dialog.querySelectorAll("button, input:not(.hp)")]
      .filter((n) => n.offsetParent !== null);
    const i = items.indexOf(root.activeElement);
    if (e.shiftKey && i <= 0) { e.preventDefault(); items[items.length - 1].focus(); }
    else if (!e.shiftKey && i === items.length - 1) { e.preventDefault(); items[0].focus(); }
  }
  document.addEventListener("keydown", onKey, true);
  x.addEventListener("click", close);
  no.addEventListener("click", close);
  backdrop.addEventListener("click", (e) => { if (e.target === backdrop) close(); });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const fail = (code) => {
      err.textContent = t["error." + code] || t["error.http_error"];
      (code === "consent_required" ? consent : email)?.focus();
    };
    const value = email.value.trim();
    if (!value) return fail("missing_field");
    if (!/^[^\s@]+@[^\s@]+$/.test(value)) return fail("invalid_email");
    if (consent && !consent.checked) return fail("consent_required");
    err.textContent = "";
    submit.disabled = true;
    submit.textContent = t.sending;
    try {
      // text/plain keeps this a CORS-simple request: no preflight round trip.
      const r = await fetch(`${base}/api/v1/sites/${encodeURIComponent(site)}/subscriptions`, {
        method: "POST", headers: { "Content-Type": "text/plain" },
        body: JSON.stringify({ email: value, consent: consent ? consent.checked : false,
          widget: w.id, page_url: location.href, lang: w.lang, website: trap.value }) });
      if (!r.ok) {
        const body = await r.json().catch(() => ({}));
        return fail(body.error ? body.error.code : "http_error");
      }
      remember(w.id, w.quiet_days_after_signup);
      track("submit");
      ok.textContent = w.success;
      form.remove();
      no.textContent = t.close;
      dialog.append(el("div", { class: "actions" }));
      dialog.lastChild.append(no);
      no.focus();
    } catch (e2) {
      fail("network_error");
    } finally {
      submit.disabled = false;
      submit.textContent = w.button;
    }
  });
  return close;
}
