/* Reciprocity widgets UI: every layout, rendered in a shadow root so host CSS cannot
   reach it and it cannot reach the host. Loaded by embed.js only when needed. */
const DAY = 864e5, KEY = "rw"; // the one localStorage key, shared with embed.js
const events = [];
let beaconUrl, where;

// A page view's events leave in one beacon when the page is hidden (tab switch,
// navigation, close): text/plain, so no preflight. With them go the page's path (no
// query string), the widget's language and a device class from the viewport's width:
// the funnel's counters by page, language and device. Nothing that tells visitors apart.
addEventListener("visibilitychange", () => {
  if (events.length && document.visibilityState === "hidden") {
    navigator.sendBeacon(beaconUrl, JSON.stringify({ ...where, events: events.splice(0) }));
  }
});

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text != null) node.textContent = text; // never innerHTML: copy may hold anything
  return node;
}

const fill = (s, v) => s.replace(/\{(\w+)\}/g, (m, k) => (k in v ? v[k] : m));

// A button that copies `text` and says so; clipboard may be refused (no https, policy).
function copier(label, done, text) {
  const b = el("button", { type: "button" }, label);
  b.addEventListener("click", () => navigator.clipboard.writeText(text())
    .then(() => { b.textContent = done; }, () => {}));
  return b;
}

// The browser's memory, read by embed.js: q quiet-until per widget, v first visit,
// u the site's reset count at sign-up, c when pop-ups were shown (for the visit cap), r the
// referral code of the friend whose link brought this visitor.
function memory() {
  try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch (e) { return {}; }
}

function update(change) {
  try {
    const state = JSON.parse(localStorage.getItem(KEY) || "{}") || {};
    change(state);
    localStorage.setItem(KEY, JSON.stringify(state));
  } catch (e) { /* storage off: the widget may show again, nothing breaks */ }
}

function remember(widgetId, days) {
  update((state) => { state.q = { ...state.q, [widgetId]: Date.now() + days * DAY }; });
}

let css;
async function sheet(href) {
  if (!css) {
    css = new CSSStyleSheet();
    css.replaceSync(await (await fetch(href)).text());
  }
  return css;
}

/** The title, description, form and messages every layout shares. `copy`: the page's
 *  own title and description (data-title, data-description), if they apply. A story
 *  widget's form asks for a name, the story, a rating (optional), an address (optional)
 *  and whether the story may be shown. */
function content(cfg, w, copy, t) {
  const f = {}, story = w.kind == "story";
  f.title = el("h2", { id: "rw-title" }, copy.title || w.title);
  f.desc = el("p", { id: "rw-desc" }, copy.description || w.description);
  f.form = el("form", { novalidate: "" });
  const field = (tag, name, label, attrs) => f.form.append(el("label", { for: "rw-" + name },
    label), f[name] = el(tag, { id: "rw-" + name, name, ...attrs }));
  if (story) {
    field("input", "name", t["story.name"], { type: "text", autocomplete: "name",
      required: "", maxlength: 100 });
    field("textarea", "text", t["story.text"], { required: "", maxlength: 5000, rows: 5 });
    // Five radios and "No rating" (the default): arrow keys move, nothing is forced.
    const set = el("fieldset", { class: "rating" });
    set.append(el("legend", {}, t["story.rating"]));
    for (let n = 0; n < 6; n++) {
      const one = el("label");
      one.append(el("input", { type: "radio", name: "rating", value: n || "",
        ...(n ? { "aria-label": fill(t["proof.rating"], { n }) } : { checked: "" }) }),
      n ? el("span", { "aria-hidden": "true" }, "★".repeat(n)) : t["story.no_rating"]);
      set.append(one);
    }
    f.form.append(set);
  }
  field("input", "email", story ? t["story.email"] : t.email_label, { type: "email",
    autocomplete: "email", ...(story ? {} : { required: "" }) });
  f.trap = el("input", { class: "hp", name: "website", tabindex: "-1",
    autocomplete: "off", "aria-hidden": "true" });
  f.err = el("p", { class: "err", role: "alert" });
  f.submit = el("button", { type: "submit", class: "primary" }, w.button);
  f.no = el("button", { type: "button", class: "no" }, w.no_thanks || t.no_thanks);
  f.ok = el("p", { class: "ok", role: "status" });
  f.form.append(f.trap);
  if (story || cfg.require_consent) {  // a story may stay private: never required
    const box = el("label", { class: "consent" });
    f.consent = el("input", { type: "checkbox", name: "consent" });
    box.append(f.consent, " " + (story ? t["story.consent"] : cfg.consent_text || t.consent));
    f.form.append(box);
  }
  f.actions = el("div", { class: "actions" });
  f.actions.append(f.submit);
  f.form.append(f.err, f.actions);
  return f;
}

/** A proof widget's stories, always as text: all of them, or one at a time with
 *  Previous and Next (wrapping around, never on their own). */
function told(list, t, carousel) {
  const card = (s) => {
    const fig = el("figure"), n = Math.min(5, s.rating | 0);
    if (n > 0) fig.append(el("p", { class: "stars", role: "img",
      "aria-label": fill(t["proof.rating"], { n }) }, "★".repeat(n) + "☆".repeat(5 - n)));
    fig.append(el("blockquote", {}, s.text), el("figcaption", {}, s.name));
    return fig;
  };
  const all = el("div", { class: "stories" });
  if (!carousel) {
    all.append(...list.map(card));
    return all;
  }
  const live = el("div", { "aria-live": "polite" });
  let i = 0;
  const go = (d) => live.replaceChildren(card(list[i = (i + d + list.length) % list.length]));
  go(0);
  all.append(live);
  if (list.length > 1) {
    const nav = el("div", { class: "actions" });
    for (const [key, d] of [["proof.prev", -1], ["proof.next", 1]]) {
      nav.append(el("button", { type: "button" }, t[key]));
      nav.lastChild.addEventListener("click", () => go(d));
    }
    all.append(nav);
  }
  return all;
}

/** Render widget `w` in its layout and handle its sign-up; returns a close function.
 *  `into`: the inline placeholder, for the inline layout. `preview`: the dashboard's
 *  preview pane, which shows any layout in place and sends nothing. */
export async function show({ cfg, w, base, data, into, preview }) {
  const api = `${base}/api/v1/sites/${encodeURIComponent(data.site)}`;
  beaconUrl = api + "/events";
  const wide = innerWidth;
  where = { page: location.pathname, lang: w.lang,
            device: wide < 768 ? "mobile" : wide < 1024 ? "tablet" : "desktop" };
  // v: the A/B test variant this browser sees (none outside a test).
  const track = (type) => preview || events.push({ widget: w.id, type, variant: w.v });
  const t = cfg.strings[w.lang] || Object.values(cfg.strings)[0];
  const story = w.kind == "story", proof = w.kind == "proof";
  if (proof && !(w.stories || []).length) return () => {};  // nothing to show: no box
  if (preview) into = preview;
  const inline = w.layout === "inline" && into;
  const modal = !preview && (w.layout === "modal" || (w.layout === "inline" && !into));
  // A custom element, not a div: page rules written for divs never match it.
  const host = el("reciprocity-widget", { "data-reciprocity-widget": w.id });
  const root = host.attachShadow({ mode: "open" });
  root.adoptedStyleSheets = [await sheet(base + cfg.css)];
  if (w.theme) {  // the owner's colours: checked '#rrggbb' values from the server
    const own = new CSSStyleSheet();
    own.replaceSync(`:host { ${Object.entries(w.theme).map(([k, v]) => `${k}: ${v}`).join("; ")} }`);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, own];
  }
  const before = document.activeElement;
  // The page's copy is for its pop-up (or the widget it names), not for inline blocks.
  const f = content(cfg, w, inline && data.widget !== w.id ? {} : data, t);
  // Social proof: the real number of confirmed subscribers, exact, or nothing.
  const count = !story && cfg.count != null && t.count ? [el("p", { class: "count" },
    fill(t.count, { n: new Intl.NumberFormat(w.lang).format(cfg.count) }))] : [];
  const desc = !proof || w.description ? [f.desc] : [];

  // Gift widgets. Gift-first: one button gives the gift, no e-mail asked; then the
  // form invites, without pressure, to subscribe (the gift joins their ledger if they
  // do) or to share. Gated: the form as it is, and the gift comes by e-mail. A gift
  // none is left of (counted on the server) turns the widget into the newsletter's
  // sign-up, saying so.
  const g = w.gift, first = g && g.mode == "f";
  let grant, gone = g && g.out;
  // f.step: gift-first's own row (the gift button and "No thanks"), before the form.
  f.step = el("div", { class: "actions" });
  f.left = el("p", { class: "left" });
  f.take = el("button", { type: "button", class: "primary" }, w.button);
  f.terr = el("p", { class: "err", role: "alert" });
  const toForm = () => {  // from gift-first's button to the (newsletter) form
    f.step.replaceWith(f.form);
    f.left.remove();
    f.terr.remove();
    f.submit.textContent = t.submit;
    if (!inline) f.actions.append(f.no);
  };
  const noGift = () => {
    gone = true;
    f.desc.textContent = fill(t["gift.gone"], { gift: g.name });
    if (f.step.isConnected) toForm();
    f.left.remove();
    f.submit.textContent = t.submit;
  };
  if (first) {
    f.step.append(f.take);
    f.take.addEventListener("click", take);
  }

  async function take() {
    track("open");
    f.take.disabled = true;
    f.take.textContent = t.sending;
    let r, b = {};
    try {
      r = preview ? { ok: true, json: () => ({ grant: { kind: g.kind, code: "EXAMPLE-2026",
        bonus: "", download: "#" } }) } : await fetch(api + "/grants", { method: "POST",
        headers: { "Content-Type": "text/plain" }, body: JSON.stringify({ widget: w.id,
          variant: w.v, page_url: location.href, lang: w.lang, website: f.trap.value }) });
      b = await r.json();
    } catch (e2) { r = { ok: false }; }
    f.take.disabled = false;
    f.take.textContent = w.button;
    if (!r.ok) {
      if (b.error && b.error.code == "gift_gone") return noGift();
      f.terr.textContent = t["error." + (b.error ? b.error.code : "network_error")] ||
        t["error.http_error"];
      return;
    }
    grant = b.grant;
    track("submit");
    if (!preview) remember(w.id, w.quiet_days_after_signup);
    const gift = el("div", { class: "gift", role: "status" });
    gift.append(el("p", { class: "yours" }, t["gift.yours"]));
    if (grant.download) {
      gift.append(el("a", { class: "primary", href: grant.download, target: "_blank",
        rel: "noopener" }, t[grant.kind == "file" ? "gift.download" : "gift.open"]));
    } else if (grant.code) {
      const code = el("p", { class: "code" });
      code.append(el("span", { "aria-label": t["gift.code"] }, grant.code),
        copier(t["gift.copy"], t["gift.copied"], () => grant.code));
      gift.append(code);
    } else {
      // Sanitised on the server (nh3): simple formatting and links only.
      const tpl = el("template");
      tpl.innerHTML = grant.bonus;
      gift.append(el("div", { class: "bonus" }));
      gift.lastChild.append(tpl.content);
    }
    // Phones share through the system sheet; elsewhere the page's link is copied.
    const share = navigator.share ? el("button", { type: "button" }, t["gift.share"])
      : copier(t["gift.share"], t["gift.shared"], () => location.href);
    if (navigator.share) {
      share.addEventListener("click", () => navigator.share({ url: location.href,
        title: document.title }).catch(() => {}));
    }
    toForm();
    f.form.before(gift);
    f.desc.textContent = t["gift.invite"];
    f.actions.append(share);
    if (modal) gift.querySelector("a, button").focus();
  }

  // A modal is a dialog over a backdrop; slide-ins and bars are non-modal dialogs that
  // leave the page usable; an inline widget is a region of the page.
  const box = el(inline ? "section" : "div", {
    class: `box ${modal || (preview && w.layout === "modal") ? "modal" : w.layout}` +
      (preview ? " preview" : ""), lang: w.lang,
    "aria-labelledby": "rw-title", ...(desc[0] ? { "aria-describedby": "rw-desc" } : {}),
    ...(inline ? {} : { role: "dialog", "aria-modal": String(modal) }) });
  const x = el("button", { type: "button", class: "x", "aria-label": t.close }, "×");
  if (!inline) {
    box.append(x);
    (first ? f.step : f.actions).append(f.no);
  }
  box.append(f.title, ...(proof ? [...count, ...desc, told(w.stories, t, w.style == "carousel")]
    : [f.desc, ...count, ...(g ? [f.left] : []), first ? f.step : f.form,
      ...(first ? [f.terr] : []), f.ok]));
  const backdrop = modal ? el("div", { class: "backdrop" }) : null;
  root.append(backdrop || box);
  if (backdrop) backdrop.append(box);
  (into ? into.replaceChildren(host) : document.body.append(host));
  track("impression");
  if (!into) update((state) => { state.c = [...(state.c || []).slice(-9), Date.now()]; });
  // "open": the visitor starts on the form.
  f.form.addEventListener("input", () => track("open"), { once: true });
  // Only a modal takes focus: a bar or slide-in appearing must not steal the keyboard
  // from someone typing on the page. Both are reachable with Tab (end of the page).
  if (gone) noGift();
  if (modal) (proof ? x : first && !gone ? f.take : f.name || f.email).focus();
  if (g && g.count && !gone && !preview) {
    fetch(`${api}/gifts/${g.id}`).then((r) => r.json()).then((b) => (b.left === 0
      ? noGift() : b.left != null && (f.left.textContent = fill(t["gift.left"], { n: b.left }))))
      .catch(() => {});
  }

  function close() {
    if (!host.isConnected || inline) return;
    host.remove();
    document.removeEventListener("keydown", onKey, true);
    if (!f.ok.textContent && !grant && !preview) {
      remember(w.id, w.quiet_days_after_close);
      track("close");
    }
    if (modal && before && before.focus) before.focus();
  }
  function onKey(e) {
    const inside = root.activeElement !== null;
    if (e.key === "Escape" && (modal || inside)) { e.preventDefault(); close(); }
    if (e.key !== "Tab" || !modal) return;
    // Keep focus inside the modal while it is open.
    const items = [...box.querySelectorAll("button, input:not(.hp), textarea")]
      .filter((n) => n.offsetParent !== null);
    const i = items.indexOf(root.activeElement);
    if (e.shiftKey && i <= 0) { e.preventDefault(); items[items.length - 1].focus(); }
    else if (!e.shiftKey && i === items.length - 1) { e.preventDefault(); items[0].focus(); }
  }
  document.addEventListener("keydown", onKey, true);
  x.addEventListener("click", close);
  f.no.addEventListener("click", close);
  if (backdrop) backdrop.addEventListener("click", (e) => { if (e.target === backdrop) close(); });

  f.form.addEventListener("submit", async (e) => {
    e.preventDefault();
    // An error shows next to its field (a story's, by the server's `field`), which
    // gets the focus; one without a field shows above the button.
    const fail = (code, field) => {
      if (code == "gift_gone") return noGift();
      let at = story ? f.form.elements.namedItem(field)
        : code === "consent_required" ? f.consent : f.email;
      if (at && !at.focus) at = at[0];  // the rating's radios
      if (story) {
        if (at) (at.closest("fieldset, .consent") || at).after(f.err);
        else f.actions.before(f.err);
        f.form.querySelector("[aria-invalid]")?.removeAttribute("aria-invalid");
        at?.setAttribute("aria-invalid", "true");
      }
      f.err.textContent = t["error." + code] || t["error.http_error"];
      at?.focus();
    };
    const value = f.email.value.trim(), rating = story && f.form.elements.rating.value;
    if (story && !f.name.value.trim()) return fail("missing_name", "name");
    if (story && !f.text.value.trim()) return fail("missing_story", "text");
    if (!story && !value) return fail("missing_field");
    if (value && !/^[^\s@]+@[^\s@]+$/.test(value)) return fail("invalid_email", "email");
    if (!story && f.consent && !f.consent.checked) return fail("consent_required");
    f.err.textContent = "";
    f.submit.disabled = true;
    f.submit.textContent = t.sending;
    try {
      // text/plain keeps this a CORS-simple request: no preflight round trip.
      const r = preview ? { ok: true } : await fetch(api + (story ? "/stories"
        : "/subscriptions"), { method: "POST", headers: { "Content-Type": "text/plain" },
        body: JSON.stringify({ widget: w.id, variant: w.v, page_url: location.href,
          lang: w.lang, website: f.trap.value, consent: f.consent ? f.consent.checked : false,
          ...(story ? { name: f.name.value.trim(), text: f.text.value.trim(),
            ...(rating ? { rating: +rating } : {}), ...(value ? { email: value } : {}) }
            : { email: value,
              ref: memory().r,  // the friend whose link brought this visitor, kept by embed.js
              ...(gone ? { gift: false } : {}), ...(grant ? { grant: grant.token } : {}) }) }) });
      if (!r.ok) {
        const body = await r.json().catch(() => ({}));
        return fail(body.error ? body.error.code : "http_error", body.error?.field);
      }
      if (!preview) {
        remember(w.id, w.quiet_days_after_signup);
        // No more pop-ups until a reset (a story is not a sign-up).
        story || update((state) => { state.u = cfg.reset; });
      }
      if (!grant) track("submit");  // a gift taken first counted already
      f.ok.textContent = gone ? g.ok : w.success;
      f.form.remove();
      if (inline) {  // the button is gone: focus goes to what replaced the form
        f.ok.tabIndex = -1;
        f.ok.focus();
      } else {
        f.no.textContent = t.close;
        box.append(el("div", { class: "actions" }));
        box.lastChild.append(f.no);
        f.no.focus();
      }
    } catch (e2) {
      fail("network_error");
    } finally {
      f.submit.disabled = false;
      f.submit.textContent = g ? (gone || first ? t.submit : w.button) : w.button;
    }
  });
  return close;
}
