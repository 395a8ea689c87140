"""Every text the survey page and the mails show, in Finnish, Swedish and English.

One catalogue: ``CATALOGUE[key][language]``; a test checks that every key has all three.
Placeholders use ``str.format`` names.
"""

from __future__ import annotations

from typing import Any, Literal

Lang = Literal["fi", "sv", "en"]
LANGUAGES: tuple[Lang, ...] = ("fi", "sv", "en")
DEFAULT: Lang = "fi"
LANGUAGE_NAMES: dict[Lang, str] = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}

CATALOGUE: dict[str, dict[str, str]] = {
    "title": {
        "fi": "Palaute tapaamisesta",
        "sv": "Respons om träffen",
        "en": "Feedback on the meeting",
    },
    "intro": {
        "fi": "Kiitos, että osallistuit ryhmäsi tapaamiseen {date}. Vastaaminen vie pari "
        "minuuttia. Voit muokata vastaustasi {closes} asti.",
        "sv": "Tack för att du deltog i gruppens träff {date}. Det tar ett par minuter att "
        "svara. Du kan ändra ditt svar fram till {closes}.",
        "en": "Thank you for attending your group's meeting on {date}. Answering takes a "
        "couple of minutes. You can edit your answer until {closes}.",
    },
    "language_nav": {"fi": "Kieli", "sv": "Språk", "en": "Language"},
    "overall": {
        "fi": "Kokonaisarvio tapaamisesta (1 = heikko, 5 = erinomainen)",
        "sv": "Helhetsbedömning av träffen (1 = svag, 5 = utmärkt)",
        "en": "Overall rating of the meeting (1 = poor, 5 = excellent)",
    },
    "usefulness": {
        "fi": "Hyöty omalle yrityksellesi (1 = ei lainkaan, 5 = erittäin hyödyllinen)",
        "sv": "Nytta för ditt eget företag (1 = ingen alls, 5 = mycket nyttig)",
        "en": "Usefulness for your own business (1 = none, 5 = very useful)",
    },
    "recommend": {
        "fi": "Kuinka todennäköisesti suosittelisit ryhmää toiselle yrittäjälle? "
        "(0 = en lainkaan, 10 = erittäin todennäköisesti)",
        "sv": "Hur sannolikt är det att du skulle rekommendera gruppen till en annan "
        "företagare? (0 = inte alls, 10 = mycket sannolikt)",
        "en": "How likely are you to recommend the group to another entrepreneur? "
        "(0 = not at all, 10 = very likely)",
    },
    "takeaway": {
        "fi": "Mitä sait tapaamisesta mukaasi?",
        "sv": "Vad tog du med dig från träffen?",
        "en": "What did you take away from the meeting?",
    },
    "change": {
        "fi": "Mitä muuttaisit?",
        "sv": "Vad skulle du ändra?",
        "en": "What would you change?",
    },
    "optional": {"fi": "(vapaaehtoinen)", "sv": "(frivilligt)", "en": "(optional)"},
    "submit": {"fi": "Lähetä vastaus", "sv": "Skicka svaret", "en": "Send answer"},
    "update": {"fi": "Tallenna muutokset", "sv": "Spara ändringarna", "en": "Save changes"},
    "saved": {
        "fi": "Kiitos! Vastauksesi on tallennettu. Voit muokata sitä {closes} asti.",
        "sv": "Tack! Ditt svar har sparats. Du kan ändra det fram till {closes}.",
        "en": "Thank you! Your answer has been saved. You can edit it until {closes}.",
    },
    "editing": {
        "fi": "Olet jo vastannut; voit muokata vastaustasi alla.",
        "sv": "Du har redan svarat; du kan ändra ditt svar nedan.",
        "en": "You have already answered; you can edit your answer below.",
    },
    "errors_title": {
        "fi": "Tarkista seuraavat kohdat:",
        "sv": "Kontrollera följande:",
        "en": "Please check the following:",
    },
    "error_required": {
        "fi": "Valitse vaihtoehto kohtaan: {field}",
        "sv": "Välj ett alternativ för: {field}",
        "en": "Choose an option for: {field}",
    },
    "error_out_of_range": {
        "fi": "Valitse jokin annetuista vaihtoehdoista kohtaan: {field}",
        "sv": "Välj ett av de givna alternativen för: {field}",
        "en": "Choose one of the given options for: {field}",
    },
    "error_too_long": {
        "fi": "Vastaus on liian pitkä (enintään {max} merkkiä): {field}",
        "sv": "Svaret är för långt (högst {max} tecken): {field}",
        "en": "The answer is too long (at most {max} characters): {field}",
    },
    "unknown_title": {
        "fi": "Linkkiä ei tunnisteta",
        "sv": "Länken känns inte igen",
        "en": "This link is not recognised",
    },
    "unknown_body": {
        "fi": "Tarkista, että kopioit sähköpostin linkin kokonaan. Jos ongelma jatkuu, ota "
        "yhteyttä ryhmäsi fasilitaattoriin.",
        "sv": "Kontrollera att du kopierade hela länken i e-postmeddelandet. Om problemet "
        "kvarstår, kontakta gruppens facilitator.",
        "en": "Check that you copied the whole link from the email. If the problem persists, "
        "contact your group's facilitator.",
    },
    "expired_title": {
        "fi": "Linkki on vanhentunut: kysely on päättynyt",
        "sv": "Länken har gått ut: enkäten har stängts",
        "en": "This link has expired: the survey has closed",
    },
    "expired_body": {
        "fi": "Kysely sulkeutui {closes}, joten vastauksia ei voi enää lähettää tai muokata. "
        "Kiitos kiinnostuksestasi!",
        "sv": "Enkäten stängdes {closes}, så svar kan inte längre skickas eller ändras. "
        "Tack för ditt intresse!",
        "en": "The survey closed on {closes}, so answers can no longer be sent or edited. "
        "Thank you for your interest!",
    },
    "used_title": {
        "fi": "Vastauksesi on tallennettu",
        "sv": "Ditt svar har sparats",
        "en": "Your answer has been saved",
    },
    "used_body": {
        "fi": "Kysely sulkeutui {closes}. Vastauksesi on mukana tuloksissa, eikä sitä voi enää "
        "muokata. Kiitos vastauksestasi!",
        "sv": "Enkäten stängdes {closes}. Ditt svar ingår i resultaten och kan inte längre "
        "ändras. Tack för ditt svar!",
        "en": "The survey closed on {closes}. Your answer is included in the results and can "
        "no longer be edited. Thank you for answering!",
    },
    "mail_invitation_subject": {
        "fi": "Palautekysely: ryhmätapaaminen {date}",
        "sv": "Responsenkät: gruppträffen {date}",
        "en": "Feedback survey: group meeting on {date}",
    },
    "mail_reminder_subject": {
        "fi": "Muistutus: palautekysely sulkeutuu {closes}",
        "sv": "Påminnelse: responsenkäten stängs {closes}",
        "en": "Reminder: the feedback survey closes on {closes}",
    },
    "mail_greeting": {"fi": "Hei {name},", "sv": "Hej {name},", "en": "Hello {name},"},
    "mail_invitation_body": {
        "fi": "kiitos osallistumisestasi ryhmäsi tapaamiseen {date}. Kerro mielipiteesi "
        "lyhyessä kyselyssä (pari minuuttia):",
        "sv": "tack för att du deltog i gruppens träff {date}. Berätta vad du tyckte i en "
        "kort enkät (ett par minuter):",
        "en": "thank you for attending your group's meeting on {date}. Please tell us what "
        "you thought in a short survey (a couple of minutes):",
    },
    "mail_reminder_body": {
        "fi": "et ole vielä vastannut tapaamisen {date} palautekyselyyn. Kysely sulkeutuu "
        "{closes}:",
        "sv": "du har ännu inte svarat på responsenkäten om träffen {date}. Enkäten stängs "
        "{closes}:",
        "en": "you have not yet answered the feedback survey on the meeting of {date}. "
        "The survey closes on {closes}:",
    },
    "mail_personal_link": {
        "fi": "Linkki on henkilökohtainen; älä välitä sitä eteenpäin.",
        "sv": "Länken är personlig; vidarebefordra den inte.",
        "en": "The link is personal; please do not forward it.",
    },
    "mail_signature": {
        "fi": "Terveisin\nMicroENTRE-kasvuverkosto",
        "sv": "Med vänliga hälsningar\nMicroENTRE-tillväxtnätverket",
        "en": "Best regards\nMicroENTRE Growth Network",
    },
}


def language(value: str | None, fallback: str = DEFAULT) -> Lang:
    """``value`` if it is a supported language, else ``fallback`` (else Finnish)."""
    known: dict[str | None, Lang] = {code: code for code in LANGUAGES}
    return known.get(value) or known.get(fallback) or DEFAULT


def t(key: str, lang: str, **values: Any) -> str:
    text = CATALOGUE[key][language(lang)]
    return text.format(**values) if values else text
