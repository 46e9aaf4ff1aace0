/* Reciprocity widgets loader. Budget: 1,024 bytes gzipped. It reads its own <script>
   tag, fetches the site's widget config, and loads the UI only when one is about to show. */
(function () {
  var s = document.currentScript, d = s && s.dataset;
  if (!d || !d.site) return console.warn("widget: the script tag needs data-site");
  var base = s.src.replace(/\/embed\.js([?#].*)?$/, ""), KEY = "rw", shown;
  var q = {};
  try { q = JSON.parse(localStorage.getItem(KEY)).q || {}; } catch (e) {}
  var lang = d.lang || document.documentElement.lang || "";
  fetch(base + "/api/v1/sites/" + encodeURIComponent(d.site) + "/widgets?url=" +
        encodeURIComponent(location.href) + "&lang=" + encodeURIComponent(lang))
    .then(function (r) { if (!r.ok) throw r.status; return r.json(); })
    .then(function (cfg) {
      var w = cfg.widgets.filter(function (w) {
        return (!d.widget || w.id == d.widget) && !(q[w.id] > Date.now()) &&
          w.trigger == "exit_intent";
      })[0];
      if (!w) return;
      function out(e) {
        // The pointer left the window through its top edge: exit intent on a desktop.
        if (e.relatedTarget || e.clientY > 0 || shown) return;
        shown = 1;
        document.removeEventListener("mouseout", out);
        import(base + cfg.ui).then(function (m) {
          m.show({ cfg: cfg, w: w, base: base, site: d.site, data: d, key: KEY });
        });
      }
      document.addEventListener("mouseout", out);
    })
    .catch(function (e) { console.warn("widget: no config", e); });
})();
