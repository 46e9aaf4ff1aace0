/* Progress bars that follow the worker (an import's check or run, a backfill to an
   e-mail service, a letter going out): each asks its status every second, moves the bar
   and its counts, and shows the page afresh once its work has ended (the page is read
   from the stored rows, so it shows the result). A bar names its status URL
   (data-status) and the statuses in which the work goes on (data-live); its counts
   ([data-count]) are within its [data-progress] element, else anywhere on the page. */
// Counts as the page writes them (1 234 in nb, 1.234 in de): the page's language.
const numbers = new Intl.NumberFormat(document.documentElement.lang || "en");
document.querySelectorAll("progress[data-status]").forEach(function (bar) {
  const live = bar.dataset.live.split(" ");
  const counts = (bar.closest("[data-progress]") || document).querySelectorAll("[data-count]");
  const tick = async function () {
    try {
      const resp = await fetch(bar.dataset.status, { headers: { Accept: "application/json" } });
      if (resp.ok) {
        const s = await resp.json();
        if (!live.includes(s.status)) {
          location.reload();
          return;
        }
        bar.max = Math.max(s.rows, s.done, 1);
        bar.value = s.done;
        counts.forEach(function (el) {
          el.textContent = numbers.format(s[el.dataset.count]);
        });
      }
    } catch (e) { /* offline for a moment: ask again */ }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
});
