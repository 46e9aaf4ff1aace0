/* Reciprocity widgets loader, ≤ 1,024 B gzipped: reads its <script> tag, fetches the
   config, arms the triggers and loads the UI only when a widget is about to show. */
(() => {
  const D = document, s = D.currentScript, d = s && s.dataset, now = Date.now;
  if (!d || !d.site) return console.warn("widget: the script tag needs data-site");
  const base = s.src.split("/embed.js")[0], on = (n, f, t = window) => t.addEventListener(n, f);
  let cfg, shown, close, timer, out, y = 0, armed = [], t0 = now(), act = t0, q = {};
  let held = (window.widget || {}).q || [];
  try { q = JSON.parse(localStorage.getItem("rw")).q || {}; } catch (e) {}
  const open = w => w && !shown && (shown = import(base + cfg.ui)
    .then(m => m.show({ cfg, w, base, site: d.site, data: d })).then(c => close = c));
  // What each trigger waits for; checked twice a second and on each exit gesture.
  const T = {
    exit_intent: () => out,
    time: v => now() - t0 >= v * 1e3,
    scroll: v => (scrollY + innerHeight) * 100 >= D.documentElement.scrollHeight * v,
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
    act = now();
  });
  on("pointermove", () => act = now());
  on("keydown", () => act = now());
  // The host page's API, queued until the config is here: widget('open', id), widget('close').
  const widget = window.widget = (cmd, id) => {
    if (!cfg) return held.push([cmd, id]);
    if (cmd == "open") open(cfg.widgets.find(w => w.id == id));
    if (cmd == "close" && close) close();
  };
  on("click", e => {
    const t = e.target.closest && e.target.closest("[data-widget-open]");
    if (t) { e.preventDefault(); widget("open", t.dataset.widgetOpen); }
  }, D);
  // Targeting runs here in the browser, so the page's URL is not sent and one cached
  // config serves every page of the site.
  fetch(base + "/api/v1/sites/" + encodeURIComponent(d.site) + "/widgets?lang=" +
        (d.lang || D.documentElement.lang))
    .then(r => r.ok ? r.json() : Promise.reject(r.status))
    .then(c => {
      cfg = c;
      held.forEach(a => widget(...a));
      armed = c.widgets.filter(w => (!d.widget || w.id == d.widget) && !(q[w.id] > now()) &&
        w.triggers[0]);
      timer = setInterval(tick, 500);
    })
    .catch(e => console.warn("widget:", e));
})();
