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

/* The widget form's live preview: the real widget from the real ui.js, redrawn from the
   form as the owner types. It sends nothing (preview mode). */
const pane = document.getElementById("preview");
if (pane) {
  const p = JSON.parse(pane.dataset.preview);
  const form = pane.closest("main").querySelector("form");
  let ui, close, timer;
  const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
  // The owner's colours as the server derives them (widget/colors.py): button text in
  // black or white, whichever contrasts more with the button.
  const lum = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const theme = () => {
    if (!form.elements.own_colors || !form.elements.own_colors.checked) return null;
    const accent = value("color_accent");
    return { "--rw-bg": value("color_bg"), "--rw-fg": value("color_fg"),
      "--rw-muted": value("color_fg"), "--rw-accent": accent,
      "--rw-on-accent": (1.05 / (lum(accent) + 0.05) >= (lum(accent) + 0.05) / 0.05)
        ? "#ffffff" : "#000000" };
  };
  const render = async function () {
    ui = ui || await import(p.ui);
    const lang = value("lang") || p.lang, d = p.defaults[lang];
    // A gift widget speaks of its gift: its title and description, its own button.
    const kind = value("kind") || "newsletter";
    const gift = kind === "gift" && p.gifts[value("gift_id")];
    const first = value("gift_mode") !== "gated";
    const w = { id: p.id, kind, layout: value("layout"), lang,
      title: value("title") || (gift ? gift.name : d.title),
      description: value("description") || (gift ? gift.description : d.description),
      button: value("button_label") || (gift ? d[first ? "gift_first" : "gift_gated"] : d.button),
      success: value("success_message") || d.success,
      no_thanks: value("no_thanks_label") || d.no_thanks,
      quiet_days_after_close: 0, quiet_days_after_signup: 0, theme: theme(),
      gift: gift && { id: value("gift_id"), mode: first ? "f" : "g", kind: gift.kind,
        name: gift.name, out: false, count: false, ok: d.success } };
    // A story form and a proof widget have their own copy; a proof widget's preview
    // shows two made-up stories in the widget's language, as a list or one at a time.
    const b = p.giveback && p.giveback[lang], s = p.strings[lang];
    if (b && kind === "story") {
      Object.assign(w, { title: value("title") || b.story_title,
        description: value("description") || b.story_description,
        button: value("button_label") || s["story.submit"],
        success: value("success_message") || s["story.thanks"] });
    } else if (b && kind === "proof") {
      Object.assign(w, { title: value("title") || b.proof_title,
        description: value("description"), stories: b.stories,
        style: value("style") || "list", layout: "inline" });  // saved as inline, always
    }
    if (close) close();
    close = await ui.show({ cfg: { strings: p.strings, css: p.css,
      require_consent: p.require_consent, consent_text: p.consent_text },
      w, base: "", data: { site: p.site }, preview: pane });
  };
  // As the owner types: only the fields the chosen kind uses, and a word when the
  // colours would be refused on saving (the server's rule, widget/sites/colors.py).
  const warning = document.getElementById("contrast-warning");
  const fit = function () {
    const kind = value("kind") || "newsletter";
    const show = (name, yes) => form.elements[name] &&
      (form.elements[name].closest(".field").hidden = !yes);
    show("gift_id", kind === "gift");
    show("gift_mode", kind === "gift");
    show("style", kind === "proof");
    if (!warning) return;
    const on = form.elements.own_colors && form.elements.own_colors.checked;
    const bg = value("color_bg"), fg = value("color_fg");
    const hex = /^#[0-9a-fA-F]{6}$/;
    const ratio = on && hex.test(bg) && hex.test(fg) &&
      (Math.max(lum(bg), lum(fg)) + 0.05) / (Math.min(lum(bg), lum(fg)) + 0.05);
    warning.hidden = !(ratio && ratio < 4.5);
    // The page's sentence in its language, the ratios written as that language does.
    const one = new Intl.NumberFormat(document.documentElement.lang || "en",
      { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    warning.textContent = warning.hidden ? "" : warning.dataset.sentence
      .replace("{ratio}", one.format(ratio)).replace("{needed}", one.format(4.5));
  };
  form.addEventListener("input", function () {
    fit(); clearTimeout(timer); timer = setTimeout(render, 150);
  });
  fit();
  render();
}

/* A refused form: its error summary takes the focus, so the owner (and a screen reader)
   starts at the list of problems, each a link to its field. */
document.querySelector(".error-summary")?.focus();
