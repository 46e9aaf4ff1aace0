/* Reciprocity widgets loader, ≤ 1,024 B gzipped: reads its <script> tag, fetches the
   config, checks frequency and targeting, arms the triggers and loads the UI only when a
   widget is about to show. The server compiles the owner's rules into short lists. */
(() => {
  const D = document, H = D.documentElement, s = D.currentScript, d = s?.dataset;
  const now = Date.now, poke = () => act = now();
  if (!d?.site) return console.warn("widget: no site");
  const base = s.src.split("/embed.js")[0], on = (n, f, t = window) => t.addEventListener(n, f);
  let cfg, shown, close, out, y = 0, armed = [], t0 = now(), act = t0, m = { v: t0 };
  let held = window.widget?.q || [];
  // The one localStorage entry: quiet-until per widget (q), first visit (v), the site's
  // reset count at sign-up (u), when pop-ups were shown (c) and a referral code (r).
  try {
    // Property access rather than getItem/setItem: the same entry, fewer bytes.
    // v, this browser's first visit: now when nothing is stored (or no storage); every
    // entry this loader writes carries it.
    m = JSON.parse(localStorage.rw || 0) || m;
    // r: the referral code of the friend whose link brought this visitor (?ref=), kept
    // for a sign-up on any later page. RegExp.$1 and no [?&] before "ref": the shortest
    // way to say it; a stray match is only a code no site knows, which changes nothing.
    /ref=(\w+)/.test(location.href) && (m.r = RegExp.$1);
    localStorage.rw = JSON.stringify(m);
  } catch {}
  const touch = matchMedia("(pointer:coarse)").matches;
  const show = (w, into) => import(base + cfg.ui).then(x => x.show({ cfg, w, base, data: d, into }));
  const open = w => w && !shown && (shown = show(w).then(c => close = c));
  // Triggers [kind, value]: exit intent, seconds on page, % scrolled, seconds idle.
  const T = {
    x: () => out,
    t: v => now() - t0 >= v * 1e3,
    s: v => (scrollY + innerHeight) * 100 >= H.scrollHeight * v,
    i: v => now() - act >= v * 1e3,
  };
  // Targeting [what, pattern, negate]: the page URL, the referrer, the device (m: touch
  // screen, d: desktop), the visitor (n: new, in the first 30 minutes; r: returning).
  const E = { u: location.href, r: D.referrer, d: touch ? "m" : "d",
    n: t0 - m.v < 18e5 ? "n" : "r" };
  // Once a pop-up has shown, the twice-a-second check is a no-op: one per page view.
  const tick = () => shown || armed.forEach(w =>
    w.on[w.all ? "every" : "some"](([k, v]) => T[k](v)) && open(w));
  // Exit intent: the pointer leaves through the top edge; on touch screens, a quick
  // scroll back up once the reader is a screen or more into the page.
  on("mouseout", e => e.relatedTarget || e.clientY > 0 || tick(out = 1), D);
  on("scroll", () => {
    if (touch && y - scrollY > 60 && y > innerHeight) tick(out = 1);
    y = scrollY;
    poke();
  });
  on("pointermove", poke);
  on("keydown", poke);
  // The host page's API, queued until the config is here: widget('open', id), widget('close').
  const widget = window.widget = (cmd, id) => {
    if (!cfg) return held.push([cmd, id]);
    if (cmd == "open") open(cfg.widgets.find(w => w.id == id));
    cmd == "close" && close?.();
  };
  on("click", e => {
    const t = e.target.closest?.("[data-widget-open]");
    if (t) { e.preventDefault(); widget("open", t.dataset.widgetOpen); }
  }, D);
  fetch(base + "/api/v1/sites/" + d.site + "/widgets?lang=" +
        (d.lang || H.lang))
    .then(r => r.json())  // an error answer has no widgets: the catch below
    .then(c => {
      // A/B tests: a widget under test comes once per variant, each with the digits of
      // the browser's first visit (m.v, a moment no one else knows) that pick it: the
      // same variant on every page, and nothing leaves the browser but its number.
      (cfg = c).widgets = c.widgets.filter(w => RegExp(w.a).test(m.v));
      held.forEach(a => widget(...a));
      // Inline widgets render into their placeholders at once; they are not pop-ups.
      D.querySelectorAll("[data-widget-inline]").forEach(e => c.widgets.forEach(w =>
        w.id == e.dataset.widgetInline && w.layout == "inline" && show(w, e)));
      // Pop-ups: none after a sign-up (until the owner resets), none past the visit's
      // cap, none in a widget's quiet days, and only where the targeting holds.
      if (!(m.u >= c.reset) && !(m.c?.filter(t => now() - t < 18e5).length >= c.cap))
        armed = c.widgets.filter(w => (!d.widget || w.id == d.widget) &&
          !(m.q?.[w.id] > now()) &&
          w.if.every(([k, v, n]) => n ^ RegExp(v, "i").test(E[k])));
      setInterval(tick, 500);
    })
    .catch(console.warn);
})();
