/* An import's progress bar: asks the import's status every second, moves the bar and the
   counts, and shows the page afresh once the check or the import has ended (the page is
   read from the import's row, so it shows the result). */
const bar = document.getElementById("import-progress");
if (bar) {
  const live = bar.dataset.live.split(" ");
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
        document.querySelectorAll("[data-count]").forEach(function (el) {
          el.textContent = s[el.dataset.count].toLocaleString("en");
        });
      }
    } catch (e) { /* offline for a moment: ask again */ }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}
