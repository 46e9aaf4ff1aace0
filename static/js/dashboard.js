/* Dashboard niceties that work without inline script (the dashboard's CSP forbids it). */
document.querySelectorAll("[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.dataset.copy);
  field.addEventListener("focus", function () { field.select(); });
  button.hidden = false;
  button.addEventListener("click", function () {
    field.select();
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = button.dataset.done;
    }, function () { document.execCommand("copy"); button.textContent = button.dataset.done; });
  });
});
