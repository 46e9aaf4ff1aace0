"""Visitor-facing strings in English, Norwegian (bokmål), German and Dutch: the
machinery, the widget's common copy and the error messages. Each capability registers
its own strings (`register`, from its package's __init__), so this module imports none.

A plain dict rather than gettext catalogs: the same strings go to the browser as JSON
in the widget config and into server pages, with no compile step in the build.
"""
from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{(\w+)\}")
LANGS = ("en", "nb", "de", "nl")

STRINGS: dict[str, dict[str, str]] = {
    "title": {
        "en": "Before you go…", "nb": "Før du går …",
        "de": "Bevor Sie gehen …", "nl": "Voordat je gaat…"},
    "description": {
        "en": "Get new articles in your inbox. One e-mail when there is something worth reading.",
        "nb": "Få nye artikler i innboksen. Én e-post når det er noe verdt å lese.",
        "de": "Neue Artikel per E-Mail. Nur wenn es etwas Lesenswertes gibt.",
        "nl": "Ontvang nieuwe artikelen in je inbox. Alleen als er iets de moeite waard is."},
    "email_label": {"en": "Your e-mail", "nb": "Din e-post", "de": "Ihre E-Mail-Adresse",
                    "nl": "Je e-mailadres"},
    "submit": {"en": "Subscribe", "nb": "Abonner", "de": "Abonnieren", "nl": "Aanmelden"},
    "sending": {"en": "Sending…", "nb": "Sender …", "de": "Wird gesendet …",
                "nl": "Bezig met verzenden…"},
    "no_thanks": {"en": "No thanks", "nb": "Nei takk", "de": "Nein danke", "nl": "Nee, bedankt"},
    "close": {"en": "Close", "nb": "Lukk", "de": "Schließen", "nl": "Sluiten"},
    "consent": {
        "en": "Yes, send me e-mails. I can unsubscribe at any time.",
        "nb": "Ja, send meg e-post. Jeg kan melde meg av når som helst.",
        "de": "Ja, schicken Sie mir E-Mails. Ich kann mich jederzeit abmelden.",
        "nl": "Ja, stuur me e-mails. Ik kan me altijd afmelden."},
    "success": {
        "en": "Thank you! You're on the list. 🎉", "nb": "Takk! Du står på listen. 🎉",
        "de": "Danke! Sie stehen auf der Liste. 🎉", "nl": "Bedankt! Je staat op de lijst. 🎉"},
    "success.pending": {
        "en": "Almost done! Check your inbox and confirm your address. 📬",
        "nb": "Nesten ferdig! Sjekk innboksen og bekreft adressen din. 📬",
        "de": "Fast geschafft! Bitte bestätigen Sie Ihre Adresse in Ihrem Postfach. 📬",
        "nl": "Bijna klaar! Kijk in je inbox en bevestig je adres. 📬"},
    "page.back": {
        "en": "← Back to {site}", "nb": "← Tilbake til {site}", "de": "← Zurück zu {site}",
        "nl": "← Terug naar {site}"},
    "page.invalid.title": {
        "en": "This link does not work", "nb": "Denne lenken virker ikke",
        "de": "Dieser Link funktioniert nicht", "nl": "Deze link werkt niet"},
    "page.invalid.text": {
        "en": "It may be incomplete or changed. Copy the whole link from the e-mail, or sign "
              "up again on the website.",
        "nb": "Den kan være ufullstendig eller endret. Kopier hele lenken fra e-posten, eller "
              "meld deg på igjen på nettstedet.",
        "de": "Er ist vielleicht unvollständig oder verändert. Kopieren Sie den ganzen Link "
              "aus der E-Mail, oder melden Sie sich auf der Website erneut an.",
        "nl": "Misschien is hij onvolledig of gewijzigd. Kopieer de hele link uit de e-mail, "
              "of meld je opnieuw aan op de website."},
    "back": {"en": "Back to the page", "nb": "Tilbake til siden", "de": "Zurück zur Seite",
             "nl": "Terug naar de pagina"},
    "thanks_title": {"en": "Thank you", "nb": "Takk", "de": "Danke", "nl": "Bedankt"},
    "error_title": {"en": "Something is not right", "nb": "Noe er ikke riktig",
                    "de": "Etwas stimmt nicht", "nl": "Er klopt iets niet"},
    "error.invalid_json": {
        "en": "The request could not be read.", "nb": "Forespørselen kunne ikke leses.",
        "de": "Die Anfrage konnte nicht gelesen werden.", "nl": "Het verzoek kon niet worden gelezen."},
    "error.invalid_type": {
        "en": "A field has the wrong kind of value.", "nb": "Et felt har feil type verdi.",
        "de": "Ein Feld hat einen ungültigen Wert.", "nl": "Een veld heeft een verkeerd soort waarde."},
    "error.payload_too_large": {
        "en": "That is too much text.", "nb": "Det er for mye tekst.",
        "de": "Das ist zu viel Text.", "nl": "Dat is te veel tekst."},
    "error.unsupported_media_type": {
        "en": "Send the form as JSON or as a normal form.",
        "nb": "Send skjemaet som JSON eller som et vanlig skjema.",
        "de": "Bitte als JSON oder normales Formular senden.",
        "nl": "Verstuur het formulier als JSON of als gewoon formulier."},
    "error.site_not_found": {
        "en": "This sign-up form is not active.", "nb": "Dette påmeldingsskjemaet er ikke aktivt.",
        "de": "Dieses Anmeldeformular ist nicht aktiv.", "nl": "Dit aanmeldformulier is niet actief."},
    "error.origin_not_allowed": {
        "en": "Sign-ups are not accepted from this website.",
        "nb": "Påmeldinger godtas ikke fra dette nettstedet.",
        "de": "Anmeldungen von dieser Website werden nicht angenommen.",
        "nl": "Aanmeldingen vanaf deze website worden niet aangenomen."},
    "error.missing_field": {
        "en": "Please fill in your e-mail address.", "nb": "Fyll inn e-postadressen din.",
        "de": "Bitte geben Sie Ihre E-Mail-Adresse ein.", "nl": "Vul je e-mailadres in."},
    "error.invalid_email": {
        "en": "That does not look like an e-mail address.",
        "nb": "Det ser ikke ut som en e-postadresse.",
        "de": "Das sieht nicht wie eine E-Mail-Adresse aus.",
        "nl": "Dat lijkt geen e-mailadres."},
    "error.email_unsupported": {
        "en": "We can't send e-mail to an address with accents or other special letters "
              "before the @. Please use another address.",
        "nb": "Vi kan ikke sende e-post til en adresse med aksenter eller andre spesielle "
              "bokstaver foran @. Bruk gjerne en annen adresse.",
        "de": "An eine Adresse mit Akzenten oder anderen besonderen Buchstaben vor dem @ "
              "können wir keine E-Mails senden. Bitte nehmen Sie eine andere Adresse.",
        "nl": "We kunnen geen e-mail sturen naar een adres met accenten of andere bijzondere "
              "letters vóór de @. Gebruik alsjeblieft een ander adres."},
    "error.too_long": {
        "en": "That is longer than we can take.", "nb": "Det er lengre enn vi kan ta imot.",
        "de": "Das ist länger als erlaubt.", "nl": "Dat is langer dan we kunnen aannemen."},
    "error.invalid_characters": {
        "en": "Please remove line breaks and other control characters.",
        "nb": "Fjern linjeskift og andre kontrolltegn.",
        "de": "Bitte entfernen Sie Zeilenumbrüche und andere Steuerzeichen.",
        "nl": "Verwijder regeleinden en andere stuurtekens."},
    "error.invalid_event": {
        "en": "Unknown widget event.", "nb": "Ukjent widgethendelse.",
        "de": "Unbekanntes Widget-Ereignis.", "nl": "Onbekende widgetgebeurtenis."},
    "error.consent_required": {
        "en": "Please tick the box to say we may e-mail you.",
        "nb": "Kryss av i boksen for å si at vi kan sende deg e-post.",
        "de": "Bitte setzen Sie das Häkchen, damit wir Ihnen schreiben dürfen.",
        "nl": "Vink het vakje aan zodat we je mogen mailen."},
    "error.unknown_widget": {
        "en": "This sign-up form is out of date. Please reload the page.",
        "nb": "Dette skjemaet er utdatert. Last inn siden på nytt.",
        "de": "Dieses Formular ist veraltet. Bitte laden Sie die Seite neu.",
        "nl": "Dit formulier is verouderd. Laad de pagina opnieuw."},
    "error.invalid_url": {
        "en": "The page address is not valid.", "nb": "Sideadressen er ikke gyldig.",
        "de": "Die Seitenadresse ist ungültig.", "nl": "Het paginaadres is ongeldig."},
    "error.rate_limited": {
        "en": "Too many tries. Please wait a little and try again.",
        "nb": "For mange forsøk. Vent litt og prøv igjen.",
        "de": "Zu viele Versuche. Bitte warten Sie kurz und versuchen Sie es erneut.",
        "nl": "Te veel pogingen. Wacht even en probeer het opnieuw."},
    "error.network_error": {
        "en": "We could not reach the server. Please try again.",
        "nb": "Vi nådde ikke serveren. Prøv igjen.",
        "de": "Der Server ist nicht erreichbar. Bitte versuchen Sie es erneut.",
        "nl": "We konden de server niet bereiken. Probeer het opnieuw."},
    "error.unauthorized": {
        "en": "A valid API key is needed: send it as Authorization: Bearer <key>.",
        "nb": "Det trengs en gyldig API-nøkkel: send den som Authorization: Bearer <nøkkel>.",
        "de": "Ein gültiger API-Schlüssel ist nötig: senden Sie ihn als "
              "Authorization: Bearer <Schlüssel>.",
        "nl": "Een geldige API-sleutel is nodig: stuur hem als Authorization: Bearer <sleutel>."},
    "error.forbidden_scope": {
        "en": "This API key may only read. Make a key with the write scope for this.",
        "nb": "Denne API-nøkkelen kan bare lese. Lag en nøkkel med skrivetilgang for dette.",
        "de": "Dieser API-Schlüssel darf nur lesen. Erstellen Sie dafür einen Schlüssel "
              "mit Schreibrecht.",
        "nl": "Deze API-sleutel mag alleen lezen. Maak hiervoor een sleutel met schrijfrechten."},
    "error.contact_exists": {
        "en": "This address is already a contact of the site.",
        "nb": "Denne adressen er allerede en kontakt på nettstedet.",
        "de": "Diese Adresse ist bereits ein Kontakt der Website.",
        "nl": "Dit adres is al een contact van de site."},
    "error.too_many_webhooks": {
        "en": "This site has as many webhooks as it may. Delete one first.",
        "nb": "Dette nettstedet har så mange webhooks som det kan ha. Slett en først.",
        "de": "Diese Website hat bereits so viele Webhooks wie erlaubt. Löschen Sie zuerst "
              "einen.",
        "nl": "Deze site heeft al zoveel webhooks als mag. Verwijder er eerst een."},
    "error.invalid_tags": {
        "en": "Tags are text of at most 64 characters, without commas, at most 20 at once.",
        "nb": "Merkelapper er tekst på høyst 64 tegn, uten komma, høyst 20 om gangen.",
        "de": "Schlagwörter sind Text mit höchstens 64 Zeichen, ohne Komma, höchstens 20 "
              "auf einmal.",
        "nl": "Labels zijn tekst van hoogstens 64 tekens, zonder komma's, hoogstens 20 "
              "tegelijk."},
    "error.not_found": {
        "en": "This page does not exist.", "nb": "Denne siden finnes ikke.",
        "de": "Diese Seite gibt es nicht.", "nl": "Deze pagina bestaat niet."},
    "error.method_not_allowed": {
        "en": "That action is not possible here.", "nb": "Den handlingen er ikke mulig her.",
        "de": "Diese Aktion ist hier nicht möglich.", "nl": "Die actie is hier niet mogelijk."},
    "error.bad_request": {
        "en": "The request was not valid.", "nb": "Forespørselen var ugyldig.",
        "de": "Die Anfrage war ungültig.", "nl": "Het verzoek was ongeldig."},
    "error.csrf_failed": {
        "en": "The form expired. Please go back, reload and try again.",
        "nb": "Skjemaet er utløpt. Gå tilbake, last inn på nytt og prøv igjen.",
        "de": "Das Formular ist abgelaufen. Bitte zurückgehen, neu laden und erneut versuchen.",
        "nl": "Het formulier is verlopen. Ga terug, laad opnieuw en probeer het nog eens."},
    "error.internal_error": {
        "en": "Something went wrong on our side. Please try again later.",
        "nb": "Noe gikk galt hos oss. Prøv igjen senere.",
        "de": "Bei uns ist etwas schiefgelaufen. Bitte versuchen Sie es später erneut.",
        "nl": "Er ging bij ons iets mis. Probeer het later opnieuw."},
    "error.http_error": {
        "en": "The request could not be completed.", "nb": "Forespørselen kunne ikke fullføres.",
        "de": "Die Anfrage konnte nicht abgeschlossen werden.",
        "nl": "Het verzoek kon niet worden voltooid."},
}

# Strings the widget UI needs in the browser (sent with the config, one language at a
# time), with every error message registered (client_keys).
CLIENT_BASE = ("email_label", "submit", "sending", "no_thanks", "close", "consent", "success")
# What only some widgets need, sent only to sites that have such a widget; filled by the
# capabilities that have such widgets.
CLIENT_GROUPS: dict[str, tuple[str, ...]] = {}


def register(strings: dict[str, dict[str, str]],
             client_groups: dict[str, tuple[str, ...]] | None = None) -> None:
    """Add a capability's strings (and the groups of them its widgets need in the
    browser). A key registered twice is a mistake that would hide a translation."""
    clash = STRINGS.keys() & strings.keys()
    if clash:
        raise ValueError(f"strings registered twice: {sorted(clash)}")
    STRINGS.update(strings)
    CLIENT_GROUPS.update(client_groups or {})


def client_keys() -> tuple[str, ...]:
    """The keys every widget needs: the common copy and every error message."""
    return CLIENT_BASE + tuple(k for k in STRINGS if k.startswith("error."))


def best_lang(*candidates: str | None) -> str:
    """The first supported language among candidates ('nb-NO' -> 'nb', 'no' -> 'nb'), else 'en'."""
    for cand in candidates:
        if not cand:
            continue
        base = cand.strip().lower().replace("_", "-").split("-")[0]
        base = {"no": "nb", "nn": "nb"}.get(base, base)
        if base in LANGS:
            return base
    return "en"


def text(key: str, lang: str, default: str | None = None) -> str:
    """The string `key` in `lang`, falling back to English, then to `default`."""
    entry = STRINGS.get(key)
    if entry is None:
        return default if default is not None else key
    return entry.get(lang) or entry["en"]


def translator(lang: str):
    """A one-argument `t(key)` for templates."""
    return lambda key: text(key, lang)


def client_strings(lang: str, groups=()) -> dict[str, str]:
    """The UI's strings in one language, with error messages keyed by error code, and
    those of the CLIENT_GROUPS named (only sites with such widgets pay for them)."""
    keys = client_keys() + tuple(k for g in groups for k in CLIENT_GROUPS[g])
    return {key: text(key, lang) for key in keys}


def success_text(double_opt_in: bool, lang: str) -> str:
    """What a visitor reads after a sign-up: with double opt-in, to check their inbox."""
    return text("success.pending" if double_opt_in else "success", lang)


def fill(template: str, values: dict[str, str]) -> str:
    """Put values into {placeholders}; an empty {name} goes with the space before it.

    Plain replacement rather than str.format: owners write these templates, and format
    would let them reach attributes ({name.__class__}) and choke on stray braces.
    """
    if not values.get("name"):
        template = template.replace(" {name}", "").replace("{name}", "")

    def value(match: re.Match) -> str:
        key = match.group(1)
        return (values[key] or "") if key in values else match.group(0)

    # One pass, so a value that itself contains "{name}" stays as typed.
    return PLACEHOLDER.sub(value, template)
