"""Visitor-facing copy for giving back, in en, nb, de and nl: the share page, the story
and proof widgets, the referral reward and story e-mails. Registered with i18n by the package.

Placeholders: {site}, {name}, {friends}, {gift}, {story}, {n}, {left}, {url}. Messages
to friends use the familiar "du" (nb, de) and "je" (nl): a friend writes them.
"""
from __future__ import annotations

GIVEBACK_STRINGS: dict[str, dict[str, str]] = {
    # --- widgets: the subscriber count, stories, proof ---
    "count": {"en": "Join {n} readers", "nb": "Bli med blant {n} lesere",
              "de": "{n} Leser sind schon dabei", "nl": "Sluit je aan bij {n} lezers"},
    "story.title": {"en": "Tell us your story", "nb": "Fortell oss historien din",
                    "de": "Erzählen Sie uns Ihre Geschichte", "nl": "Vertel ons je verhaal"},
    "story.description": {
        "en": "How did it go? A few lines are plenty: we read every one.",
        "nb": "Hvordan gikk det? Noen få linjer holder: vi leser hver eneste en.",
        "de": "Wie ist es gelaufen? Ein paar Zeilen genügen: Wir lesen jede einzelne.",
        "nl": "Hoe ging het? Een paar regels is genoeg: we lezen ze allemaal."},
    "story.name": {"en": "Your name", "nb": "Navnet ditt", "de": "Ihr Name", "nl": "Je naam"},
    "story.text": {"en": "Your story", "nb": "Historien din", "de": "Ihre Geschichte",
                   "nl": "Je verhaal"},
    "story.rating": {"en": "Your rating (optional)", "nb": "Din vurdering (valgfritt)",
                     "de": "Ihre Bewertung (optional)", "nl": "Je beoordeling (optioneel)"},
    "story.email": {
        "en": "Your e-mail, for our thank-you (optional)",
        "nb": "E-posten din, så vi kan takke deg (valgfritt)",
        "de": "Ihre E-Mail-Adresse, für unseren Dank (optional)",
        "nl": "Je e-mailadres, voor ons bedankje (optioneel)"},
    "story.consent": {
        "en": "You may show my story and first name on this website.",
        "nb": "Dere kan vise historien min og fornavnet mitt på nettstedet.",
        "de": "Sie dürfen meine Geschichte und meinen Vornamen auf dieser Website zeigen.",
        "nl": "Jullie mogen mijn verhaal en voornaam op deze website tonen."},
    "story.no_rating": {"en": "No rating", "nb": "Ingen vurdering", "de": "Keine Bewertung",
                        "nl": "Geen beoordeling"},
    "story.submit": {"en": "Send my story", "nb": "Send historien", "de": "Geschichte senden",
                     "nl": "Verhaal versturen"},
    "story.thanks": {
        "en": "Thank you for your story! 💛 We read every one.",
        "nb": "Takk for historien din! 💛 Vi leser hver eneste en.",
        "de": "Danke für Ihre Geschichte! 💛 Wir lesen jede einzelne.",
        "nl": "Bedankt voor je verhaal! 💛 We lezen ze allemaal."},
    "proof.title": {"en": "What readers say", "nb": "Hva leserne sier", "de": "Was Leser sagen",
                    "nl": "Wat lezers zeggen"},
    "proof.prev": {"en": "Previous", "nb": "Forrige", "de": "Zurück", "nl": "Vorige"},
    "proof.next": {"en": "Next", "nb": "Neste", "de": "Weiter", "nl": "Volgende"},
    "proof.rating": {"en": "{n} of 5 stars", "nb": "{n} av 5 stjerner",
                     "de": "{n} von 5 Sternen", "nl": "{n} van 5 sterren"},
    # Two made-up stories for the dashboard's preview of a proof widget, never shown to
    # visitors.
    "sample.story1.name": {"en": "Maya", "nb": "Ingrid", "de": "Anna", "nl": "Sanne"},
    "sample.story1.text": {
        "en": "The starter log saved my first loaf. Two weeks later I bake every Sunday.",
        "nb": "Surdeigsloggen reddet det første brødet mitt. To uker senere baker jeg "
              "hver søndag.",
        "de": "Das Sauerteig-Protokoll hat mein erstes Brot gerettet. Zwei Wochen später "
              "backe ich jeden Sonntag.",
        "nl": "Het starterlogboek heeft mijn eerste brood gered. Twee weken later bak ik "
              "elke zondag."},
    "sample.story2.name": {"en": "Tom", "nb": "Lars", "de": "Jonas", "nl": "Daan"},
    "sample.story2.text": {
        "en": "Clear, friendly and no fuss. I read every e-mail.",
        "nb": "Tydelig, vennlig og uten mas. Jeg leser hver eneste e-post.",
        "de": "Klar, freundlich und ohne Umschweife. Ich lese jede E-Mail.",
        "nl": "Duidelijk, vriendelijk en zonder gedoe. Ik lees elke e-mail."},
    "error.missing_name": {
        "en": "Please tell us your name.", "nb": "Skriv inn navnet ditt.",
        "de": "Bitte nennen Sie Ihren Namen.", "nl": "Vul je naam in."},
    "error.missing_story": {
        "en": "Please write your story first.", "nb": "Skriv historien din først.",
        "de": "Bitte schreiben Sie zuerst Ihre Geschichte.", "nl": "Schrijf eerst je verhaal."},
    "error.invalid_rating": {
        "en": "Pick a rating from 1 to 5.", "nb": "Velg en vurdering fra 1 til 5.",
        "de": "Wählen Sie eine Bewertung von 1 bis 5.", "nl": "Kies een beoordeling van 1 tot 5."},
    # --- the share page (/share/<token>) and the thank-you page ---
    "page.share.title": {
        "en": "Share {site} with your friends", "nb": "Del {site} med vennene dine",
        "de": "{site} mit Freunden teilen", "nl": "Deel {site} met je vrienden"},
    "page.share.text": {
        "en": "This is your personal link. Every friend who joins through it counts for you.",
        "nb": "Dette er din personlige lenke. Hver venn som melder seg på via den, teller "
              "for deg.",
        "de": "Das ist Ihr persönlicher Link. Jeder Freund, der sich darüber anmeldet, "
              "zählt für Sie.",
        "nl": "Dit is je persoonlijke link. Elke vriend die zich ermee aanmeldt, telt voor jou."},
    "page.share.link": {"en": "Your link", "nb": "Lenken din", "de": "Ihr Link",
                        "nl": "Je link"},
    "page.share.copy": {"en": "Copy link", "nb": "Kopier lenken", "de": "Link kopieren",
                        "nl": "Link kopiëren"},
    "page.share.more": {"en": "Share…", "nb": "Del …", "de": "Teilen …", "nl": "Delen…"},
    "page.share.email": {"en": "E-mail a friend", "nb": "Send e-post til en venn",
                         "de": "Per E-Mail empfehlen", "nl": "Mail een vriend"},
    "page.share.progress": {
        "en": "Friends who joined through your link: {n}",
        "nb": "Venner som har meldt seg på via lenken din: {n}",
        "de": "Freunde, die sich über Ihren Link angemeldet haben: {n}",
        "nl": "Vrienden die zich via jouw link hebben aangemeld: {n}"},
    "page.share.pending": {
        "en": "{n} more signed up and will count soon.",
        "nb": "{n} til har meldt seg på og teller snart.",
        "de": "{n} weitere haben sich angemeldet und zählen bald.",
        "nl": "Nog {n} hebben zich aangemeld en tellen straks mee."},
    "page.share.next": {
        "en": "{left} more for “{gift}”.", "nb": "{left} til, så får du «{gift}».",
        "de": "Noch {left}, dann bekommen Sie „{gift}“.", "nl": "Nog {left} voor “{gift}”."},
    "page.share.reached": {
        "en": "Reached: “{gift}” 🎉", "nb": "Nådd: «{gift}» 🎉", "de": "Erreicht: „{gift}“ 🎉",
        "nl": "Behaald: “{gift}” 🎉"},
    "page.share.badge.title": {"en": "Link to us", "nb": "Lenk til oss",
                               "de": "Auf uns verlinken", "nl": "Link naar ons"},
    "page.share.badge.text": {
        "en": "Have a blog or website? Paste this where a link to {site} fits; it counts "
              "for you too.",
        "nb": "Har du en blogg eller et nettsted? Lim inn dette der en lenke til {site} "
              "passer; den teller også for deg.",
        "de": "Sie haben ein Blog oder eine Website? Fügen Sie dies ein, wo ein Link zu "
              "{site} passt; er zählt auch für Sie.",
        "nl": "Heb je een blog of website? Plak dit waar een link naar {site} past; ook die "
              "telt voor jou."},
    "page.share.badge.label": {"en": "Read {site}", "nb": "Les {site}", "de": "{site} lesen",
                               "nl": "Lees {site}"},
    "page.confirmed.share": {
        "en": "Know someone who would enjoy this? Share it with your personal link.",
        "nb": "Kjenner du noen som vil like dette? Del det med din personlige lenke.",
        "de": "Kennen Sie jemanden, dem das gefallen würde? Teilen Sie es mit Ihrem "
              "persönlichen Link.",
        "nl": "Ken je iemand die dit leuk zou vinden? Deel het met je persoonlijke link."},
    "share.subject": {"en": "Something you might like: {site}",
                      "nb": "Noe du kanskje liker: {site}",
                      "de": "Das könnte dir gefallen: {site}", "nl": "Iets voor jou: {site}"},
    "share.message": {
        "en": "I've been enjoying {site} and thought you might like it too: {url}",
        "nb": "Jeg har hatt glede av {site} og tenkte du også kunne like det: {url}",
        "de": "Ich lese {site} sehr gern und dachte, das könnte dir auch gefallen: {url}",
        "nl": "Ik lees {site} graag en dacht dat jij het ook leuk zou vinden: {url}"},
    # --- e-mails ---
    "mail.share.text": {
        "en": "Know someone who would enjoy {site}? Share it with your personal link.",
        "nb": "Kjenner du noen som vil like {site}? Del det med din personlige lenke.",
        "de": "Kennen Sie jemanden, dem {site} gefallen würde? Teilen Sie es mit Ihrem "
              "persönlichen Link.",
        "nl": "Ken je iemand die {site} leuk zou vinden? Deel het met je persoonlijke link."},
    "mail.share.button": {"en": "Share with a friend", "nb": "Del med en venn",
                          "de": "Mit Freunden teilen", "nl": "Delen met een vriend"},
    "mail.reward.subject": {
        "en": "Thank you for sharing {site} 🎁", "nb": "Takk for at du deler {site} 🎁",
        "de": "Danke, dass Sie {site} weiterempfehlen 🎁", "nl": "Bedankt voor het delen van {site} 🎁"},
    "mail.reward.body": {
        "en": "Hi {name},\n\nA friend of yours just joined {site} through your link: that "
              "makes {friends} so far. Thank you for telling people about us!",
        "nb": "Hei {name},\n\nEn venn av deg meldte seg nettopp på {site} via lenken din: det "
              "blir {friends} så langt. Takk for at du forteller andre om oss!",
        "de": "Hallo {name},\n\ngerade hat sich jemand über Ihren Link bei {site} angemeldet: "
              "Das sind schon {friends}. Danke, dass Sie uns weiterempfehlen!",
        "nl": "Hoi {name},\n\nEr heeft zich net iemand via jouw link aangemeld bij {site}: dat "
              "zijn er al {friends}. Bedankt dat je ons aanraadt!"},
    "mail.reward.gift": {
        "en": "As a thank-you, this is for you:", "nb": "Som takk er dette til deg:",
        "de": "Als Dankeschön ist das für Sie:", "nl": "Als bedankje is dit voor jou:"},
    "mail.story_thanks.subject": {
        "en": "Thank you for your story 💛", "nb": "Takk for historien din 💛",
        "de": "Danke für Ihre Geschichte 💛", "nl": "Bedankt voor je verhaal 💛"},
    "mail.story_thanks.body": {
        "en": "Hi {name},\n\nThank you for telling us your story, “{story}”. We read every "
              "single one, and it means a lot that you took the time.",
        "nb": "Hei {name},\n\nTakk for at du fortalte oss historien din, «{story}». Vi leser "
              "hver eneste en, og det betyr mye at du tok deg tid.",
        "de": "Hallo {name},\n\ndanke, dass Sie uns Ihre Geschichte erzählt haben: „{story}“. "
              "Wir lesen jede einzelne, und es bedeutet uns viel, dass Sie sich die Zeit "
              "genommen haben.",
        "nl": "Hoi {name},\n\nBedankt dat je ons je verhaal vertelde, “{story}”. We lezen ze "
              "allemaal, en het betekent veel dat je er de tijd voor nam."},
    "mail.story_reply.subject": {
        "en": "A reply from {site}", "nb": "Et svar fra {site}", "de": "Eine Antwort von {site}",
        "nl": "Een antwoord van {site}"},
    "mail.story_reply.body": {
        "en": "Hi {name},\n\nThank you again for your story, “{story}”. Here is our reply:",
        "nb": "Hei {name},\n\nTakk igjen for historien din, «{story}». Her er svaret vårt:",
        "de": "Hallo {name},\n\nnochmals danke für Ihre Geschichte, „{story}“. Hier ist "
              "unsere Antwort:",
        "nl": "Hoi {name},\n\nNogmaals bedankt voor je verhaal, “{story}”. Hier is ons antwoord:"},
    "mail.story.public": {
        "en": "You allowed us to show it on {site}: we will, once we have read it.",
        "nb": "Du har gitt oss lov til å vise den på {site}: det gjør vi når vi har lest den.",
        "de": "Sie haben erlaubt, sie auf {site} zu zeigen: Das tun wir, sobald wir sie "
              "gelesen haben.",
        "nl": "Je gaf toestemming om het op {site} te tonen: dat doen we zodra we het "
              "gelezen hebben."},
    "mail.story.private": {
        "en": "You didn't ask us to publish it, so it stays between us.",
        "nb": "Du ba ikke om at den skulle publiseres, så den blir mellom oss.",
        "de": "Sie haben nicht um eine Veröffentlichung gebeten, also bleibt sie unter uns.",
        "nl": "Je vroeg niet om publicatie, dus het blijft tussen ons."},
    "mail.footer.story": {
        "en": "You get this e-mail because you sent your story to {site}.",
        "nb": "Du får denne e-posten fordi du sendte historien din til {site}.",
        "de": "Sie erhalten diese E-Mail, weil Sie {site} Ihre Geschichte geschickt haben.",
        "nl": "Je krijgt deze e-mail omdat je je verhaal naar {site} stuurde."},
}
