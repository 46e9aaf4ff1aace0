/* The share page's two buttons that need a script (the page works without it): copy a
   field, and the phone's own share sheet where the browser has one. */
document.querySelectorAll("[data-copy]").forEach((button) => {
  const field = document.getElementById(button.dataset.copy);
  button.hidden = false;
  button.addEventListener("click", () => {
    field.select();
    navigator.clipboard.writeText(field.value)
      .then(() => { button.textContent = button.dataset.done; }, () => {});
  });
});
document.querySelectorAll("[data-share-url]").forEach((button) => {
  if (!navigator.share) return;
  button.hidden = false;
  button.addEventListener("click", () => navigator.share({
    url: button.dataset.shareUrl, text: button.dataset.shareText }).catch(() => {}));
});
