"""Visitor-facing gift copy in en, nb, de and nl: the widget, the gift and rating pages,
and the gift and follow-up e-mails. Registered with i18n by the package.

Placeholders: {gift} (the gift's title), {site}, {name}, {n}, {days}, {date}, {code}.
"""
from __future__ import annotations

GIFT_STRINGS: dict[str, dict[str, str]] = {
    # --- the widget ---
    "gift.get": {"en": "Get the gift", "nb": "Få gaven", "de": "Geschenk holen",
                 "nl": "Cadeau ophalen"},
    "gift.send_me": {"en": "Send me the gift", "nb": "Send meg gaven",
                     "de": "Geschenk zusenden", "nl": "Stuur me het cadeau"},
    "gift.yours": {"en": "Here's your gift 🎁", "nb": "Her er gaven din 🎁",
                   "de": "Hier ist Ihr Geschenk 🎁", "nl": "Hier is je cadeau 🎁"},
    "gift.download": {"en": "Download", "nb": "Last ned", "de": "Herunterladen",
                      "nl": "Downloaden"},
    "gift.open": {"en": "Open", "nb": "Åpne", "de": "Öffnen", "nl": "Openen"},
    "gift.code": {"en": "Your code", "nb": "Koden din", "de": "Ihr Code", "nl": "Je code"},
    "gift.copy": {"en": "Copy", "nb": "Kopier", "de": "Kopieren", "nl": "Kopiëren"},
    "gift.copied": {"en": "Copied ✓", "nb": "Kopiert ✓", "de": "Kopiert ✓",
                    "nl": "Gekopieerd ✓"},
    "gift.left": {"en": "{n} left", "nb": "{n} igjen", "de": "Noch {n} verfügbar",
                  "nl": "Nog {n} beschikbaar"},
    "gift.gone": {
        "en": "“{gift}” has all been given away. Thank you for your interest! Would you "
              "like the next one by e-mail?",
        "nb": "«{gift}» er delt ut. Takk for interessen! Vil du ha den neste på e-post?",
        "de": "„{gift}“ ist vergeben. Danke für Ihr Interesse! Möchten Sie das Nächste "
              "per E-Mail?",
        "nl": "“{gift}” is op. Bedankt voor je interesse! Wil je het volgende per e-mail?"},
    "gift.invite": {
        "en": "Enjoy! If you'd like more like this, we can send the next one by e-mail.",
        "nb": "God fornøyelse! Vil du ha mer som dette, kan vi sende det neste på e-post.",
        "de": "Viel Freude damit! Wenn Sie mehr davon möchten, schicken wir Ihnen das "
              "Nächste per E-Mail.",
        "nl": "Veel plezier! Wil je meer van dit soort, dan sturen we het volgende per e-mail."},
    "gift.share": {"en": "Share this page", "nb": "Del denne siden",
                   "de": "Diese Seite teilen", "nl": "Deel deze pagina"},
    "gift.shared": {"en": "Link copied ✓", "nb": "Lenken er kopiert ✓",
                    "de": "Link kopiert ✓", "nl": "Link gekopieerd ✓"},
    "gift.sent": {
        "en": "Thank you! “{gift}” is on its way to your inbox. 🎁",
        "nb": "Takk! «{gift}» er på vei til innboksen din. 🎁",
        "de": "Danke! „{gift}“ ist auf dem Weg in Ihr Postfach. 🎁",
        "nl": "Bedankt! “{gift}” is onderweg naar je inbox. 🎁"},
    "gift.pending": {
        "en": "Almost done! Confirm your address in the e-mail we just sent, and “{gift}” "
              "is yours. 📬",
        "nb": "Nesten ferdig! Bekreft adressen i e-posten vi nettopp sendte, så får du "
              "«{gift}». 📬",
        "de": "Fast geschafft! Bestätigen Sie Ihre Adresse in der E-Mail, die wir gerade "
              "geschickt haben, dann gehört „{gift}“ Ihnen. 📬",
        "nl": "Bijna klaar! Bevestig je adres in de e-mail die we net stuurden, en “{gift}” "
              "is van jou. 📬"},
    "error.gift_gone": {
        "en": "Sorry, this gift has all been given away.",
        "nb": "Beklager, denne gaven er delt ut.",
        "de": "Leider ist dieses Geschenk vergeben.", "nl": "Sorry, dit cadeau is op."},
    # --- the gift page (/gift/<token>) ---
    "page.gift.from": {"en": "A gift from {site}", "nb": "En gave fra {site}",
                       "de": "Ein Geschenk von {site}", "nl": "Een cadeau van {site}"},
    "page.gift.terms": {
        "en": "This link works until {date}, for {n} more downloads.",
        "nb": "Lenken virker til {date}, for {n} nedlastinger til.",
        "de": "Dieser Link gilt bis {date}, für {n} weitere Downloads.",
        "nl": "Deze link werkt tot {date}, voor nog {n} downloads."},
    "page.gift.waiting.title": {
        "en": "Confirm your address first", "nb": "Bekreft adressen først",
        "de": "Bitte zuerst die Adresse bestätigen", "nl": "Bevestig eerst je adres"},
    "page.gift.waiting.text": {
        "en": "Your gift is ready as soon as you press the button in the e-mail we sent you.",
        "nb": "Gaven er klar så snart du trykker på knappen i e-posten vi sendte deg.",
        "de": "Ihr Geschenk ist bereit, sobald Sie den Knopf in unserer E-Mail drücken.",
        "nl": "Je cadeau staat klaar zodra je op de knop in onze e-mail drukt."},
    "page.gift.expired.title": {
        "en": "This gift link has expired", "nb": "Gavelenken er utløpt",
        "de": "Dieser Geschenk-Link ist abgelaufen", "nl": "Deze cadeaulink is verlopen"},
    "page.gift.expired.text": {
        "en": "Gift links work for {days} days.", "nb": "Gavelenker virker i {days} dager.",
        "de": "Geschenk-Links gelten {days} Tage.", "nl": "Cadeaulinks werken {days} dagen."},
    "page.gift.spent.title": {
        "en": "This link's downloads are used up",
        "nb": "Nedlastingene for denne lenken er brukt opp",
        "de": "Die Downloads dieses Links sind aufgebraucht",
        "nl": "De downloads van deze link zijn op"},
    "page.gift.spent.text": {
        "en": "Each gift link allows {n} downloads.",
        "nb": "Hver gavelenke gir {n} nedlastinger.",
        "de": "Jeder Geschenk-Link erlaubt {n} Downloads.",
        "nl": "Elke cadeaulink geeft {n} downloads."},
    "page.gift.revoked.title": {
        "en": "This gift link was withdrawn", "nb": "Denne gavelenken er trukket tilbake",
        "de": "Dieser Geschenk-Link wurde zurückgezogen", "nl": "Deze cadeaulink is ingetrokken"},
    "page.gift.revoked.text": {
        "en": "{site} has withdrawn this link, so it no longer works.",
        "nb": "{site} har trukket tilbake denne lenken, så den virker ikke lenger.",
        "de": "{site} hat diesen Link zurückgezogen; er funktioniert nicht mehr.",
        "nl": "{site} heeft deze link ingetrokken, dus hij werkt niet meer."},
    "page.gift.replaced.title": {
        "en": "There is a newer link to this gift",
        "nb": "Det finnes en nyere lenke til denne gaven",
        "de": "Es gibt einen neueren Link zu diesem Geschenk",
        "nl": "Er is een nieuwere link naar dit cadeau"},
    "page.gift.replaced.text": {
        "en": "A fresh link was sent after this one. Please use the newest e-mail.",
        "nb": "En ny lenke er sendt etter denne. Bruk den nyeste e-posten.",
        "de": "Danach wurde ein neuer Link geschickt. Bitte nutzen Sie die neueste E-Mail.",
        "nl": "Hierna is een nieuwe link verstuurd. Gebruik de nieuwste e-mail."},
    "page.gift.fresh_offer": {
        "en": "We can e-mail you a fresh link.", "nb": "Vi kan sende deg en ny lenke på e-post.",
        "de": "Wir können Ihnen einen neuen Link per E-Mail schicken.",
        "nl": "We kunnen je een nieuwe link mailen."},
    "page.gift.again": {
        "en": "You can get it again where you found it.",
        "nb": "Du kan hente den igjen der du fant den.",
        "de": "Sie können es dort, wo Sie es gefunden haben, erneut holen.",
        "nl": "Je kunt het opnieuw ophalen waar je het vond."},
    "page.gift.fresh_sent": {
        "en": "If this gift is yours, a fresh link is on its way. It can take a few minutes.",
        "nb": "Er gaven din, er en ny lenke på vei. Det kan ta noen minutter.",
        "de": "Wenn dieses Geschenk Ihres ist, ist ein neuer Link unterwegs. Das kann "
              "einige Minuten dauern.",
        "nl": "Als dit cadeau van jou is, is er een nieuwe link onderweg. Dat kan een paar "
              "minuten duren."},
    "page.gift.timeout.title": {
        "en": "This download has timed out", "nb": "Nedlastingen er tidsavbrutt",
        "de": "Dieser Download ist abgelaufen", "nl": "Deze download is verlopen"},
    "page.gift.timeout.text": {
        "en": "A download started from the gift page works for an hour. Go back and press "
              "the button again.",
        "nb": "En nedlasting startet fra gavesiden virker i en time. Gå tilbake og trykk på "
              "knappen igjen.",
        "de": "Ein Download von der Geschenkseite gilt eine Stunde. Gehen Sie zurück und "
              "drücken Sie den Knopf erneut.",
        "nl": "Een download vanaf de cadeaupagina werkt een uur. Ga terug en druk nog eens "
              "op de knop."},
    "page.gift.back": {"en": "Back to your gift", "nb": "Tilbake til gaven",
                       "de": "Zurück zum Geschenk", "nl": "Terug naar je cadeau"},
    # --- the rating page (/rate/<token>) ---
    "page.rate.title": {
        "en": "How did you like “{gift}”?", "nb": "Hva syntes du om «{gift}»?",
        "de": "Wie hat Ihnen „{gift}“ gefallen?", "nl": "Wat vond je van “{gift}”?"},
    "page.rate.legend": {"en": "Your rating", "nb": "Din vurdering", "de": "Ihre Bewertung",
                         "nl": "Je beoordeling"},
    "page.rate.scale": {
        "en": "1 = not useful · 5 = very useful", "nb": "1 = ikke nyttig · 5 = svært nyttig",
        "de": "1 = nicht hilfreich · 5 = sehr hilfreich", "nl": "1 = niet nuttig · 5 = heel nuttig"},
    "page.rate.comment": {
        "en": "Anything you'd like to add? (optional)",
        "nb": "Noe du vil legge til? (valgfritt)",
        "de": "Möchten Sie noch etwas sagen? (optional)",
        "nl": "Wil je nog iets toevoegen? (optioneel)"},
    "page.rate.send": {"en": "Send", "nb": "Send", "de": "Senden", "nl": "Versturen"},
    "page.rate.missing": {
        "en": "Please pick a number from 1 to 5.", "nb": "Velg et tall fra 1 til 5.",
        "de": "Bitte wählen Sie eine Zahl von 1 bis 5.", "nl": "Kies een getal van 1 tot 5."},
    "page.rated.title": {"en": "Thank you! 💛", "nb": "Tusen takk! 💛",
                         "de": "Vielen Dank! 💛", "nl": "Dank je wel! 💛"},
    "page.rated.text": {
        "en": "{site} reads every answer: it helps them make the next gift better.",
        "nb": "{site} leser hvert svar: det hjelper dem å gjøre neste gave bedre.",
        "de": "{site} liest jede Antwort: Das hilft, das nächste Geschenk besser zu machen.",
        "nl": "{site} leest elk antwoord: zo wordt het volgende cadeau nog beter."},
    # --- e-mails ---
    "mail.gift.subject": {
        "en": "Your gift from {site}: {gift}", "nb": "Gaven din fra {site}: {gift}",
        "de": "Ihr Geschenk von {site}: {gift}", "nl": "Je cadeau van {site}: {gift}"},
    "mail.gift.body": {
        "en": "Hi {name},\n\nHere is “{gift}”, as promised. We hope you enjoy it!\n\n"
              "Just reply to this e-mail if you have a question: a person reads it.",
        "nb": "Hei {name},\n\nHer er «{gift}», som lovet. Vi håper du liker det!\n\n"
              "Svar gjerne på denne e-posten om du har et spørsmål: et menneske leser den.",
        "de": "Hallo {name},\n\nhier ist „{gift}“, wie versprochen. Viel Freude damit!\n\n"
              "Antworten Sie einfach auf diese E-Mail, wenn Sie eine Frage haben: ein Mensch "
              "liest sie.",
        "nl": "Hoi {name},\n\nHier is “{gift}”, zoals beloofd. Veel plezier ermee!\n\n"
              "Beantwoord deze e-mail gerust als je een vraag hebt: een mens leest hem."},
    "mail.gift.waiting": {
        "en": "As soon as you confirm, “{gift}” is yours.",
        "nb": "Så snart du bekrefter, får du «{gift}».",
        "de": "Sobald Sie bestätigen, gehört „{gift}“ Ihnen.",
        "nl": "Zodra je bevestigt, is “{gift}” van jou."},
    "mail.gift.button.file": {"en": "Download your gift", "nb": "Last ned gaven",
                              "de": "Geschenk herunterladen", "nl": "Download je cadeau"},
    "mail.gift.button.link": {"en": "Open your gift", "nb": "Åpne gaven",
                              "de": "Geschenk öffnen", "nl": "Open je cadeau"},
    "mail.gift.button.other": {"en": "See your gift", "nb": "Se gaven",
                               "de": "Geschenk ansehen", "nl": "Bekijk je cadeau"},
    "mail.gift.code": {"en": "Your code: {code}", "nb": "Koden din: {code}",
                       "de": "Ihr Code: {code}", "nl": "Je code: {code}"},
    "mail.gift.terms": {
        "en": "The link works for {days} days and {n} downloads.",
        "nb": "Lenken virker i {days} dager og for {n} nedlastinger.",
        "de": "Der Link gilt {days} Tage und für {n} Downloads.",
        "nl": "De link werkt {days} dagen en voor {n} downloads."},
    "mail.followup.subject": {
        "en": "How did you like “{gift}”?", "nb": "Hva syntes du om «{gift}»?",
        "de": "Wie hat Ihnen „{gift}“ gefallen?", "nl": "Wat vond je van “{gift}”?"},
    "mail.followup.body": {
        "en": "Hi {name},\n\nA little while ago you got “{gift}” from {site}. Was it useful? "
              "One click below tells us, and helps us make the next one better.",
        "nb": "Hei {name},\n\nFor en stund siden fikk du «{gift}» fra {site}. Var det nyttig? "
              "Ett klikk under forteller oss det, og hjelper oss å gjøre den neste bedre.",
        "de": "Hallo {name},\n\nvor einiger Zeit haben Sie „{gift}“ von {site} bekommen. War "
              "es hilfreich? Ein Klick unten sagt es uns und hilft, das Nächste noch besser "
              "zu machen.",
        "nl": "Hoi {name},\n\nEen tijdje geleden kreeg je “{gift}” van {site}. Had je er iets "
              "aan? Eén klik hieronder vertelt het ons, en helpt ons het volgende nog beter "
              "te maken."},
    "mail.rating.label": {"en": "{n} of 5", "nb": "{n} av 5", "de": "{n} von 5",
                          "nl": "{n} van 5"},
}
