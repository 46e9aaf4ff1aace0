/* Reciprocity widgets loader, ≤ 1,024 B gzipped: reads its <script> tag, fetches the
   config, arms the trigger, loads the UI only to show a widget, beacons the events. */
(() => {
  const s = document.currentScript, d = s && s.dataset, K = "rw", ev = [];
  if (!d || !d.site) return console.warn("widget: the script tag needs data-site");
  const base = s.src.replace(/\/embed\.js([?#].*)?$/, "");
  const api = base + "/api/v1/sites/" + encodeURIComponent(d.site);
  let cfg, shown, close, q = {}, held = (window.widget || {}).q || [];
  try { q = JSON.parse(localStorage.getItem(K)).q || {}; } catch (e) {}
  const track = (w, type) => ev.push({ widget: w.id, type });
  const flush = () => ev.length && document.visibilityState == "hidden" &&
    navigator.sendBeacon(api + "/events", JSON.stringify({ events: ev.splice(0) }));
  addEventListener("visibilitychange", flush);
  addEventListener("pagehide", flush);
  const open = (w) => w && !shown && (shown = import(base + cfg.ui).then((m) =>
    m.show({ cfg, w, base, site: d.site, data: d, key: K, track: (t) => track(w, t) }))
    .then((c) => close = c));
  // The host page's API, queued until the config is here: widget('open', id), widget('close').
  const widget = window.widget = (cmd, id) => {
    if (!cfg) return held.push([cmd, id]);
    if (cmd == "open") open(cfg.widgets.find((w) => w.id == id));
    if (cmd == "close" && close) close();
  };
  document.addEventListener("click", (e) => {
    const t = e.target.closest && e.target.closest("[data-widget-open]");
    if (t) { e.preventDefault(); widget("open", t.dataset.widgetOpen); }
  });
  fetch(api + "/widgets?url=" + encodeURIComponent(location.href) + "&lang=" +
        encodeURIComponent(d.lang || document.documentElement.lang || ""))
    .then((r) => { if (!r.ok) throw r.status; return r.json(); })
    .then((c) => {
      cfg = c;
      held.forEach((a) => widget(...a));
      const w = c.widgets.find((w) => (!d.widget || w.id == d.widget) &&
        !(q[w.id] > Date.now()) && w.trigger == "exit_intent");
      if (!w) return;
      track(w, "impression");
      // The pointer leaves the window through its top edge: exit intent on a desktop.
      document.addEventListener("mouseout", (e) => e.relatedTarget || e.clientY > 0 || open(w));
    })
    .catch((e) => console.warn("widget: no config", e));
})();
