"""Visitor-facing e-mail copy and the confirm / unsubscribe pages, in en, nb, de and nl.

Registered with i18n by the package. Placeholders: {name} (removed with the space before it when
the name is unknown), {site}, {what}, {days}. Subjects never carry {name}: nothing a
visitor typed goes into a header.
"""
from __future__ import annotations

MAIL_STRINGS: dict[str, dict[str, str]] = {
    "mail.what": {
        "en": "the newsletter from {site}", "nb": "nyhetsbrevet fra {site}",
        "de": "den Newsletter von {site}", "nl": "de nieuwsbrief van {site}"},
    "mail.confirm.subject": {
        "en": "Please confirm: e-mails from {site}", "nb": "Bekreft: e-post fra {site}",
        "de": "Bitte bestätigen: E-Mails von {site}", "nl": "Graag bevestigen: e-mails van {site}"},
    "mail.confirm.body": {
        "en": "Hi {name},\n\nThank you for signing up for {what}. Please confirm with the "
              "button below that it was you, and you're on the list.\n\n"
              "If you did not sign up, just ignore this e-mail: you will not hear from us again.",
        "nb": "Hei {name},\n\nTakk for at du meldte deg på {what}. Bekreft med knappen under at "
              "det var deg, så står du på listen.\n\n"
              "Meldte du deg ikke på, kan du se bort fra denne e-posten: du hører ikke fra oss igjen.",
        "de": "Hallo {name},\n\ndanke, dass Sie sich für {what} angemeldet haben. Bitte bestätigen "
              "Sie mit dem Knopf unten, dass Sie es waren, dann stehen Sie auf der Liste.\n\n"
              "Falls Sie sich nicht angemeldet haben, ignorieren Sie diese E-Mail einfach: "
              "Sie hören dann nicht wieder von uns.",
        "nl": "Hoi {name},\n\nBedankt voor je aanmelding voor {what}. Bevestig met de knop "
              "hieronder dat jij het was, dan sta je op de lijst.\n\n"
              "Heb je je niet aangemeld? Negeer deze e-mail dan: je hoort niets meer van ons."},
    "mail.confirm.button": {
        "en": "Yes, subscribe me", "nb": "Ja, meld meg på", "de": "Ja, ich möchte sie erhalten",
        "nl": "Ja, meld me aan"},
    "mail.welcome.subject": {
        "en": "Welcome to {site} 🎉", "nb": "Velkommen til {site} 🎉",
        "de": "Willkommen bei {site} 🎉", "nl": "Welkom bij {site} 🎉"},
    "mail.welcome.body": {
        "en": "Hi {name},\n\nThank you for confirming! You're now subscribed to {what}, and the "
              "next e-mail will come when there is something worth reading.\n\n"
              "Just reply to this e-mail if you have a question or a wish: a person reads it.",
        "nb": "Hei {name},\n\nTakk for at du bekreftet! Nå abonnerer du på {what}, og neste "
              "e-post kommer når det er noe verdt å lese.\n\n"
              "Svar gjerne på denne e-posten om du har et spørsmål eller et ønske: et menneske leser den.",
        "de": "Hallo {name},\n\ndanke für Ihre Bestätigung! Sie haben jetzt {what} abonniert; die "
              "nächste E-Mail kommt, wenn es etwas Lesenswertes gibt.\n\n"
              "Antworten Sie einfach auf diese E-Mail, wenn Sie eine Frage oder einen Wunsch "
              "haben: ein Mensch liest sie.",
        "nl": "Hoi {name},\n\nBedankt voor je bevestiging! Je bent nu aangemeld voor {what}; de "
              "volgende e-mail komt als er iets de moeite waard is.\n\n"
              "Beantwoord deze e-mail gerust als je een vraag of wens hebt: een mens leest hem."},
    "mail.link_hint": {
        "en": "Or open this link:", "nb": "Eller åpne denne lenken:",
        "de": "Oder öffnen Sie diesen Link:", "nl": "Of open deze link:"},
    "mail.footer": {
        "en": "You get this e-mail because this address was signed up at {site}.",
        "nb": "Du får denne e-posten fordi denne adressen ble meldt på hos {site}.",
        "de": "Sie erhalten diese E-Mail, weil diese Adresse bei {site} angemeldet wurde.",
        "nl": "Je krijgt deze e-mail omdat dit adres is aangemeld bij {site}."},
    "mail.unsubscribe": {
        "en": "Unsubscribe", "nb": "Meld deg av", "de": "Abmelden", "nl": "Afmelden"},
    # To the site's owner (render.OWNER_KINDS): not the owner's copy, no list headers.
    "mail.webhook_disabled.subject": {
        "en": "{site}: a webhook was switched off", "nb": "{site}: en webhook ble slått av",
        "de": "{site}: ein Webhook wurde abgeschaltet",
        "nl": "{site}: een webhook is uitgeschakeld"},
    "mail.webhook_disabled.body": {
        "en": "Hello,\n\nYour webhook {url} has not accepted the events of {site} for {hours} "
              "hours, so we have stopped sending to it. Why: {reason}\n\n"
              "No new events go to it until you switch it on again. Its delivery log shows "
              "every attempt: once the endpoint works again, switch it on and send the "
              "failed deliveries again from there.",
        "nb": "Hei,\n\nWebhooken din {url} har ikke tatt imot hendelsene fra {site} på {hours} "
              "timer, så vi har sluttet å sende til den. Hvorfor: {reason}\n\n"
              "Ingen nye hendelser går dit før du slår den på igjen. Leveringsloggen viser "
              "hvert forsøk: når mottakeren virker igjen, slår du den på og sender de "
              "mislykkede leveringene på nytt derfra.",
        "de": "Hallo,\n\nIhr Webhook {url} hat die Ereignisse von {site} {hours} Stunden lang "
              "nicht angenommen, deshalb senden wir nicht mehr dorthin. Grund: {reason}\n\n"
              "Neue Ereignisse gehen erst wieder dorthin, wenn Sie ihn wieder einschalten. "
              "Das Zustellprotokoll zeigt jeden Versuch: Sobald der Empfänger wieder "
              "funktioniert, schalten Sie ihn ein und senden die fehlgeschlagenen "
              "Zustellungen von dort erneut.",
        "nl": "Hallo,\n\nJe webhook {url} heeft de gebeurtenissen van {site} {hours} uur lang "
              "niet aangenomen, dus we sturen er niets meer naartoe. Waarom: {reason}\n\n"
              "Nieuwe gebeurtenissen gaan er pas weer heen als je hem weer inschakelt. Het "
              "afleverlogboek toont elke poging: werkt de ontvanger weer, schakel hem dan in "
              "en verstuur de mislukte afleveringen van daaruit opnieuw."},
    "mail.webhook_disabled.button": {
        "en": "Open the webhook", "nb": "Åpne webhooken", "de": "Webhook öffnen",
        "nl": "Webhook openen"},
    "mail.footer.owner": {
        "en": "You get this e-mail because you manage the widgets of {site}.",
        "nb": "Du får denne e-posten fordi du administrerer widgetene til {site}.",
        "de": "Sie erhalten diese E-Mail, weil Sie die Widgets von {site} verwalten.",
        "nl": "Je krijgt deze e-mail omdat je de widgets van {site} beheert."},
    # To an owner about their account (no site): a password reset link.
    "mail.password_reset.subject": {
        "en": "Reset your password", "nb": "Tilbakestill passordet ditt",
        "de": "Passwort zurücksetzen", "nl": "Stel je wachtwoord opnieuw in"},
    "mail.password_reset.body": {
        "en": "Hello,\n\nSomeone, probably you, asked to reset the password of the "
              "dashboard account {email} ({sites}). The button below lets you choose a new "
              "one. It works for an hour, once; logging in again ends every other session."
              "\n\nIf you did not ask, ignore this e-mail: your password stays as it is.",
        "nb": "Hei,\n\nNoen, sannsynligvis du, ba om å tilbakestille passordet til "
              "dashbordkontoen {email} ({sites}). Med knappen under velger du et nytt. Den "
              "virker i en time, én gang; alle andre økter blir logget ut.\n\nHvis det ikke "
              "var deg, kan du se bort fra denne e-posten: passordet ditt forblir som det er.",
        "de": "Hallo,\n\njemand, wahrscheinlich Sie, hat verlangt, das Passwort des "
              "Dashboard-Kontos {email} ({sites}) zurückzusetzen. Mit der Schaltfläche "
              "unten wählen Sie ein neues. Sie gilt eine Stunde lang und nur einmal; alle "
              "anderen Sitzungen werden dabei beendet.\n\nWenn Sie das nicht waren, "
              "ignorieren Sie diese E-Mail: Ihr Passwort bleibt, wie es ist.",
        "nl": "Hallo,\n\nIemand, waarschijnlijk jij, vroeg om het wachtwoord van het "
              "dashboardaccount {email} ({sites}) opnieuw in te stellen. Met de knop hieronder "
              "kies je een nieuw. Hij werkt een uur lang, één keer; alle andere sessies "
              "worden daarbij beëindigd.\n\nWas jij het niet, negeer deze e-mail dan: je "
              "wachtwoord blijft zoals het is."},
    "mail.password_reset.button": {
        "en": "Choose a new password", "nb": "Velg et nytt passord",
        "de": "Neues Passwort wählen", "nl": "Kies een nieuw wachtwoord"},
    "mail.email_change.subject": {
        "en": "Confirm your new address", "nb": "Bekreft den nye adressen din",
        "de": "Neue Adresse bestätigen", "nl": "Bevestig je nieuwe adres"},
    "mail.email_change.body": {
        "en": "Hello,\n\nThe dashboard account {email} asked to use {new} from now on. The "
              "button below confirms it: from then on you log in with {new}. It works for a "
              "day.\n\nIf you did not ask, ignore this e-mail: nothing changes.",
        "nb": "Hei,\n\nDashbordkontoen {email} ba om å bruke {new} fra nå av. Knappen under "
              "bekrefter det: deretter logger du inn med {new}. Den virker i ett døgn.\n\n"
              "Hvis det ikke var deg, kan du se bort fra denne e-posten: ingenting endres.",
        "de": "Hallo,\n\ndas Dashboard-Konto {email} möchte ab jetzt {new} verwenden. Die "
              "Schaltfläche unten bestätigt es: danach melden Sie sich mit {new} an. Sie gilt "
              "einen Tag lang.\n\nWenn Sie das nicht waren, ignorieren Sie diese E-Mail: "
              "nichts ändert sich.",
        "nl": "Hallo,\n\nHet dashboardaccount {email} vroeg om voortaan {new} te gebruiken. De "
              "knop hieronder bevestigt het: daarna log je in met {new}. Hij werkt een dag."
              "\n\nWas jij het niet, negeer deze e-mail dan: er verandert niets."},
    "mail.email_change.button": {
        "en": "Confirm the new address", "nb": "Bekreft den nye adressen",
        "de": "Neue Adresse bestätigen", "nl": "Bevestig het nieuwe adres"},
    "mail.footer.account_email": {
        "en": "You get this e-mail because this address was given for a dashboard account.",
        "nb": "Du får denne e-posten fordi denne adressen ble oppgitt for en dashbordkonto.",
        "de": "Sie erhalten diese E-Mail, weil diese Adresse für ein Dashboard-Konto "
              "angegeben wurde.",
        "nl": "Je krijgt deze e-mail omdat dit adres is opgegeven voor een dashboardaccount."},
    "mail.invite.subject": {
        "en": "Join {site} on Reciprocity widgets", "nb": "Bli med på {site} i Reciprocity widgets",
        "de": "Machen Sie bei {site} in Reciprocity widgets mit",
        "nl": "Doe mee met {site} in Reciprocity widgets"},
    "mail.invite.body": {
        "en": "Hello,\n\n{inviter} invites you to the dashboard of {site}'s widgets as "
              "{role}. The button below shows the invitation: join with your account of "
              "this address, or make one. It works for a week.\n\nNot expecting it? "
              "Ignore this e-mail: nothing happens.",
        "nb": "Hei,\n\n{inviter} inviterer deg til dashbordet for widgetene til {site} som "
              "{role}. Knappen under viser invitasjonen: bli med med kontoen din for denne "
              "adressen, eller lag en. Den virker i en uke.\n\nVentet du den ikke? Se bort "
              "fra denne e-posten: ingenting skjer.",
        "de": "Hallo,\n\n{inviter} lädt Sie als {role} in das Dashboard der Widgets von "
              "{site} ein. Die Schaltfläche unten zeigt die Einladung: Treten Sie mit Ihrem "
              "Konto dieser Adresse bei oder legen Sie eines an. Sie gilt eine Woche.\n\n"
              "Nicht erwartet? Ignorieren Sie diese E-Mail: es passiert nichts.",
        "nl": "Hallo,\n\n{inviter} nodigt je uit voor het dashboard van de widgets van {site} "
              "als {role}. De knop hieronder toont de uitnodiging: doe mee met je account "
              "van dit adres, of maak er een. Hij werkt een week.\n\nHad je hem niet "
              "verwacht? Negeer deze e-mail dan: er gebeurt niets."},
    "mail.invite.button": {
        "en": "See the invitation", "nb": "Se invitasjonen", "de": "Einladung ansehen",
        "nl": "Bekijk de uitnodiging"},
    "mail.footer.invite": {
        "en": "You get this e-mail because someone invited this address to {site}'s team.",
        "nb": "Du får denne e-posten fordi noen inviterte denne adressen til teamet til {site}.",
        "de": "Sie erhalten diese E-Mail, weil jemand diese Adresse in das Team von {site} "
              "eingeladen hat.",
        "nl": "Je krijgt deze e-mail omdat iemand dit adres voor het team van {site} heeft "
              "uitgenodigd."},
    "role.viewer": {"en": "viewer", "nb": "leser", "de": "Leser", "nl": "lezer"},
    "role.editor": {"en": "editor", "nb": "redaktør", "de": "Redakteur", "nl": "redacteur"},
    "role.owner": {"en": "owner", "nb": "eier", "de": "Inhaber", "nl": "eigenaar"},
    "mail.footer.account": {
        "en": "You get this e-mail because a password reset was asked for your account.",
        "nb": "Du får denne e-posten fordi noen ba om å tilbakestille passordet til kontoen din.",
        "de": "Sie erhalten diese E-Mail, weil für Ihr Konto ein neues Passwort angefordert "
              "wurde.",
        "nl": "Je krijgt deze e-mail omdat er voor je account om een nieuw wachtwoord is "
              "gevraagd."},
    "page.confirm.title": {
        "en": "Confirm your subscription", "nb": "Bekreft påmeldingen",
        "de": "Anmeldung bestätigen", "nl": "Bevestig je aanmelding"},
    "page.confirm.text": {
        "en": "Press the button to confirm that you want e-mails from {site}.",
        "nb": "Trykk på knappen for å bekrefte at du vil ha e-post fra {site}.",
        "de": "Drücken Sie den Knopf, um zu bestätigen, dass Sie E-Mails von {site} möchten.",
        "nl": "Druk op de knop om te bevestigen dat je e-mails van {site} wilt ontvangen."},
    "page.confirmed.title": {
        "en": "You're subscribed 🎉", "nb": "Du er påmeldt 🎉", "de": "Sie sind angemeldet 🎉",
        "nl": "Je bent aangemeld 🎉"},
    "page.confirmed.text": {
        "en": "Thank you! You now get e-mails from {site}, and a welcome note is on its way.",
        "nb": "Takk! Nå får du e-post fra {site}, og en velkomsthilsen er på vei.",
        "de": "Danke! Sie erhalten jetzt E-Mails von {site}; ein Willkommensgruß ist unterwegs.",
        "nl": "Bedankt! Je ontvangt nu e-mails van {site}, en een welkomstbericht is onderweg."},
    "page.expired.title": {
        "en": "This link has expired", "nb": "Denne lenken er utløpt",
        "de": "Dieser Link ist abgelaufen", "nl": "Deze link is verlopen"},
    "page.expired.text": {
        "en": "Confirmation links work for {days} days. We can send you a fresh one.",
        "nb": "Bekreftelseslenker virker i {days} dager. Vi kan sende deg en ny.",
        "de": "Bestätigungslinks gelten {days} Tage. Wir können Ihnen einen neuen schicken.",
        "nl": "Bevestigingslinks werken {days} dagen. We kunnen je een nieuwe sturen."},
    "page.expired.button": {
        "en": "Send me a fresh link", "nb": "Send meg en ny lenke",
        "de": "Neuen Link schicken", "nl": "Stuur me een nieuwe link"},
    "page.resent.title": {
        "en": "Check your inbox", "nb": "Sjekk innboksen", "de": "Schauen Sie in Ihr Postfach",
        "nl": "Kijk in je inbox"},
    "page.resent.text": {
        "en": "If this address is still waiting for confirmation, a fresh link is on its way. "
              "It can take a few minutes.",
        "nb": "Venter adressen fortsatt på bekreftelse, er en ny lenke på vei. "
              "Det kan ta noen minutter.",
        "de": "Wenn diese Adresse noch auf die Bestätigung wartet, ist ein neuer Link "
              "unterwegs. Das kann einige Minuten dauern.",
        "nl": "Als dit adres nog op bevestiging wacht, is er een nieuwe link onderweg. "
              "Dat kan een paar minuten duren."},
    "page.unsubscribe.title": {
        "en": "Unsubscribe from {site}?", "nb": "Melde deg av {site}?",
        "de": "Von {site} abmelden?", "nl": "Afmelden bij {site}?"},
    "page.unsubscribe.text": {
        "en": "Press the button and you get no more e-mails from {site}.",
        "nb": "Trykk på knappen, så får du ikke flere e-poster fra {site}.",
        "de": "Drücken Sie den Knopf, und Sie erhalten keine E-Mails mehr von {site}.",
        "nl": "Druk op de knop en je ontvangt geen e-mails meer van {site}."},
    "page.unsubscribed.title": {
        "en": "You're unsubscribed", "nb": "Du er meldt av", "de": "Sie sind abgemeldet",
        "nl": "Je bent afgemeld"},
    "page.unsubscribed.text": {
        "en": "You get no more e-mails from {site}. Changed your mind? You can come back "
              "with one click.",
        "nb": "Du får ikke flere e-poster fra {site}. Ombestemt deg? Du kan komme tilbake "
              "med ett klikk.",
        "de": "Sie erhalten keine E-Mails mehr von {site}. Doch anders entschieden? Mit einem "
              "Klick sind Sie wieder dabei.",
        "nl": "Je ontvangt geen e-mails meer van {site}. Toch van gedachten veranderd? Met "
              "één klik ben je terug."},
    "page.resubscribe.button": {
        "en": "Subscribe again", "nb": "Meld meg på igjen", "de": "Wieder anmelden",
        "nl": "Opnieuw aanmelden"},
    "page.resubscribed.title": {
        "en": "Welcome back 🎉", "nb": "Velkommen tilbake 🎉", "de": "Willkommen zurück 🎉",
        "nl": "Welkom terug 🎉"},
    "page.resubscribed.text": {
        "en": "You get e-mails from {site} again.", "nb": "Du får e-post fra {site} igjen.",
        "de": "Sie erhalten wieder E-Mails von {site}.",
        "nl": "Je ontvangt weer e-mails van {site}."},
    # A letter of new posts (kind "letter"): {posts} is the first post's title, with
    # mail.letter.more when there are more; {count} how many posts.
    "mail.letter.subject": {
        "en": "{site}: {posts}", "nb": "{site}: {posts}", "de": "{site}: {posts}",
        "nl": "{site}: {posts}"},
    "mail.letter.body": {
        "en": "Hi {name},\n\nThere is something new at {site}.",
        "nb": "Hei {name},\n\nDet er noe nytt hos {site}.",
        "de": "Hallo {name},\n\nes gibt etwas Neues bei {site}.",
        "nl": "Hoi {name},\n\nEr is iets nieuws bij {site}."},
    "mail.letter.more": {
        "en": "{title} and {more} more", "nb": "{title} og {more} til",
        "de": "{title} und {more} weitere", "nl": "{title} en nog {more}"},
    "mail.letter.read": {
        "en": "Read the post", "nb": "Les innlegget", "de": "Den Beitrag lesen",
        "nl": "Lees het bericht"},
    "mail.letter.web": {
        "en": "Read this e-mail on the web", "nb": "Les denne e-posten på nettet",
        "de": "Diese E-Mail im Browser lesen", "nl": "Lees deze e-mail op het web"},
    "mail.letter.share": {
        "en": "Enjoy {site}? Pass it on to a friend: your own link is on this page.",
        "nb": "Liker du {site}? Del det med en venn: din egen lenke står på denne siden.",
        "de": "Gefällt Ihnen {site}? Empfehlen Sie es weiter: Ihr eigener Link steht auf "
              "dieser Seite.",
        "nl": "Vind je {site} leuk? Geef het door aan een vriend: je eigen link staat op "
              "deze pagina."},
    "mail.letter.test": {
        "en": "[Test] {subject}", "nb": "[Test] {subject}", "de": "[Test] {subject}",
        "nl": "[Test] {subject}"},
    "page.letter.title": {
        "en": "New at {site}", "nb": "Nytt hos {site}", "de": "Neu bei {site}",
        "nl": "Nieuw bij {site}"},
}
