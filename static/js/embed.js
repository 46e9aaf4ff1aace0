/* Reciprocity widgets loader, ≤ 1,024 B gzipped: reads its <script> tag, fetches the
   config, arms the triggers and loads the UI only when a widget is about to show. */
(() => {
  const D = document, H = D.documentElement, s = D.currentScript, d = s && s.dataset;
  const now = Date.now, poke = () => act = now();
  if (!d || !d.site) return console.warn("widget: data-site missing");
  const base = s.src.split("/embed.js")[0], on = (n, f, t = window) => t.addEventListener(n, f);
  let cfg, shown, close, timer, out, y = 0, armed = [], t0 = now(), act = t0, q = {};
  let held = (window.widget || {}).q || [];
  try { q = JSON.parse(localStorage.getItem("rw")).q || {}; } catch (e) {}
  const show = (w, into) => import(base + cfg.ui).then(m => m.show({ cfg, w, base, data: d, into }));
  const open = w => w && !shown && (shown = show(w).then(c => close = c));
  // What each trigger waits for; checked twice a second and on each exit gesture.
  const T = {
    exit_intent: () => out,
    time: v => now() - t0 >= v * 1e3,
    scroll: v => (scrollY + innerHeight) * 100 >= H.scrollHeight * v,
    idle: v => now() - act >= v * 1e3,
  };
  const tick = () => shown ? clearInterval(timer) : armed.forEach(w =>
    w.triggers[w.match == "all" ? "every" : "some"](([k, v]) => T[k](v)) && open(w));
  // Exit intent: the pointer leaves through the top edge; on touch screens, a quick
  // scroll back up once the reader is a screen or more into the page.
  on("mouseout", e => e.relatedTarget || e.clientY > 0 || tick(out = 1), D);
  const touch = matchMedia("(pointer:coarse)").matches;
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
    if (cmd == "close" && close) close();
  };
  on("click", e => {
    const t = e.target.closest?.("[data-widget-open]");
    if (t) { e.preventDefault(); widget("open", t.dataset.widgetOpen); }
  }, D);
  // Targeting runs here in the browser, so the page's URL is not sent and one cached
  // config serves every page of the site.
  fetch(base + "/api/v1/sites/" + encodeURIComponent(d.site) + "/widgets?lang=" +
        (d.lang || H.lang))
    .then(r => r.json())  // an error answer has no widgets: the catch below
    .then(c => {
      cfg = c;
      held.forEach(a => widget(...a));
      // Inline widgets render into their placeholders at once; they are not pop-ups.
      D.querySelectorAll("[data-widget-inline]").forEach(e => c.widgets.forEach(w =>
        w.id == e.dataset.widgetInline && w.layout == "inline" && show(w, e)));
      armed = c.widgets.filter(w => (!d.widget || w.id == d.widget) && !(q[w.id] > now()) &&
        w.triggers[0] && w.layout != "inline");
      timer = setInterval(tick, 500);
    })
    .catch(e => console.warn("widget:", e));
})();
