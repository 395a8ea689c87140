"""The first codebook: Wenger's 11 typical community-of-practice activities, in the project's
own words (fi/sv/en), with one of the network's own examples each.

The codes are the activity types of the event contract (``shared.contracts.ACTIVITY_TYPES``,
the one definition of the types): a consensus coding with this codebook counts in the same
types as the activities the regions record. :func:`first_codebook` is what the gateway
writes as version 1 of the codebook ``wenger`` when it has none (see
:func:`services.gateway.research.codebooks.ensure_first_codebook`); researchers edit it by
adding versions.
"""

from __future__ import annotations

from services.gateway.research.codebooks import CodebookInput, CodeInput, Texts
from shared.contracts.meetings import ACTIVITY_TYPES

KEY = "wenger"
CITATION = (
    "Wenger, E., McDermott, R. & Snyder, W. M. (2002). Cultivating Communities of Practice. "
    "Harvard Business School Press; coded as in the MicroENTRE Growth Network case study, "
    "Table 1."
)

# code: (name, definition, example), each (fi, sv, en)
_TEXTS: dict[str, tuple[Texts, Texts, Texts]] = {
    "problem_solving": (
        Texts("Ongelmanratkaisu", "Problemlösning", "Problem-solving"),
        Texts(
            "Jäsen tuo ryhmälle oman yrityksensä ongelman, ja ryhmä pohtii sitä yhdessä "
            "ratkaisuun asti.",
            "En medlem tar upp ett problem i sitt eget företag och gruppen löser det tillsammans.",
            "A member brings a problem of the company to the group and the group works on it "
            "together towards a solution.",
        ),
        Texts(
            "Isäntä kertoi kassavirtaongelmasta, ja ryhmä kävi läpi laskutuksen nopeuttamisen "
            "keinot.",
            "Värden berättade om ett kassaflödesproblem och gruppen gick igenom hur "
            "faktureringen kan snabbas upp.",
            "The host described a cash-flow problem and the group went through ways to "
            "invoice faster.",
        ),
    ),
    "requests_for_information": (
        Texts("Tiedon pyytäminen", "Begäran om information", "Requests for information"),
        Texts(
            "Jäsen kysyy ryhmältä tietoa: kenen puoleen kääntyä, mistä jotain saa, miten "
            "jokin asia hoidetaan.",
            "En medlem frågar gruppen om information: vem man vänder sig till, var man får "
            "något, hur något sköts.",
            "A member asks the group for information: whom to turn to, where to get "
            "something, how a matter is handled.",
        ),
        Texts(
            "Jäsen kysyi, mistä saa luotettavan tilitoimiston pienelle yritykselle.",
            "En medlem frågade var man hittar en pålitlig redovisningsbyrå för ett litet företag.",
            "A member asked where to find a reliable accounting firm for a small company.",
        ),
    ),
    "seeking_experience": (
        Texts("Kokemusten hakeminen", "Att söka erfarenheter", "Seeking experience"),
        Texts(
            "Jäsen kysyy, onko joku muu jo kokeillut jotakin, ja kuulee toisten kokemukset "
            "ennen omaa päätöstään.",
            "En medlem frågar om någon redan har prövat något och hör de andras erfarenheter "
            "före sitt eget beslut.",
            "A member asks whether anyone has tried something already and hears the others' "
            "experience before deciding.",
        ),
        Texts(
            "Ennen verkkokaupan avaamista jäsen kuuli kolmen muun kokemukset maksupalveluista.",
            "Innan webbutiken öppnades hörde en medlem tre andras erfarenheter av betaltjänster.",
            "Before opening an online shop a member heard three others' experience of payment "
            "services.",
        ),
    ),
    "reusing_assets": (
        Texts("Resurssien yhteiskäyttö", "Att återanvända resurser", "Reusing assets"),
        Texts(
            "Jäsenet käyttävät yhdessä tai toistensa tiloja, laitteita, materiaaleja tai "
            "logistiikkaa.",
            "Medlemmarna använder lokaler, utrustning, material eller logistik tillsammans "
            "eller av varandra.",
            "Members share or reuse each other's premises, equipment, material or logistics.",
        ),
        Texts(
            "Kaksi jäsentä jakoi festivaalin myyntikojun ja kuljetukset.",
            "Två medlemmar delade ett försäljningsstånd på en festival och transporterna.",
            "Two members shared a festival sales booth and its logistics.",
        ),
    ),
    "coordination_and_strategy": (
        Texts("Koordinointi ja strategia", "Samordning och strategi", "Coordination and strategy"),
        Texts(
            "Jäsenet sopivat yhteisestä tekemisestä, työnjaosta tai suunnasta ja toteuttavat "
            "sen yhdessä.",
            "Medlemmarna kommer överens om gemensamt arbete, arbetsfördelning eller riktning "
            "och genomför det tillsammans.",
            "Members agree on joint work, a division of labour or a direction, and carry it "
            "out together.",
        ),
        Texts(
            "Kymmenen jäsentä rakensi yhdessä näyttelytalon kolmessa viikossa.",
            "Tio medlemmar byggde tillsammans ett utställningshus på tre veckor.",
            "Ten members built an exhibition house together within three weeks.",
        ),
    ),
    "building_an_argument": (
        Texts("Perustelujen rakentaminen", "Att bygga argument", "Building an argument"),
        Texts(
            "Ryhmä auttaa jäsentä kokoamaan perustelut päätökselle tai kannalle, jota hän "
            "harkitsee.",
            "Gruppen hjälper en medlem att samla argument för ett beslut eller en hållning "
            "som hon eller han överväger.",
            "The group helps a member put together the case for a decision or a position the "
            "member is weighing.",
        ),
        Texts(
            "Jäsen palkkasi ensimmäisen työntekijänsä, kun ryhmä oli perustellut sen puolesta.",
            "En medlem anställde sin första anställda efter att gruppen argumenterat för det.",
            "A member hired his first employee after the group argued for it.",
        ),
    ),
    "growing_confidence": (
        Texts("Itseluottamuksen kasvu", "Växande självförtroende", "Growing confidence"),
        Texts(
            "Jäsen saa ryhmältä rohkaisua ja vahvistusta kokeilla jotain uutta tai jatkaa "
            "valitsemallaan tiellä.",
            "En medlem får uppmuntran och bekräftelse av gruppen att pröva något nytt eller "
            "fortsätta på den valda vägen.",
            "A member gains encouragement and reassurance from the group to try something new "
            "or keep to a chosen path.",
        ),
        Texts(
            "Ryhmän tuella jäsen nosti hintojaan ensimmäistä kertaa viiteen vuoteen.",
            "Med gruppens stöd höjde en medlem sina priser för första gången på fem år.",
            "With the group's support a member raised prices for the first time in five years.",
        ),
    ),
    "discussing_developments": (
        Texts("Kehityksestä keskustelu", "Att diskutera utveckling", "Discussing developments"),
        Texts(
            "Jäsenet keskustelevat alan, markkinoiden, lainsäädännön tai tekniikan "
            "muutoksista ja niiden merkityksestä omalle yritykselle.",
            "Medlemmarna diskuterar förändringar i branschen, på marknaden, i lagstiftningen "
            "eller tekniken och vad de betyder för det egna företaget.",
            "Members discuss changes in their trade, market, regulation or technology and what "
            "they mean for their companies.",
        ),
        Texts(
            "Ryhmä keskusteli uusista arvonlisäverosäännöistä ja niiden vaikutuksesta "
            "hinnoitteluun.",
            "Gruppen diskuterade de nya momsreglerna och hur de påverkar prissättningen.",
            "The group discussed new VAT rules and their effect on pricing.",
        ),
    ),
    "documentation_projects": (
        Texts("Dokumentointihankkeet", "Dokumentationsprojekt", "Documentation projects"),
        Texts(
            "Jäsenet tuottavat yhdessä kirjallista tai muuta pysyvää aineistoa, jota muutkin "
            "voivat käyttää.",
            "Medlemmarna tar tillsammans fram skriftligt eller annat bestående material som "
            "även andra kan använda.",
            "Members produce written or other lasting material together that others can use.",
        ),
        Texts(
            "Kolme jäsentä kehitti yhdessä tarjouslaskentaohjelman.",
            "Tre medlemmar utvecklade tillsammans ett program för offertberäkning.",
            "Three members co-developed an offer-calculation program.",
        ),
    ),
    "visits": (
        Texts("Vierailut", "Besök", "Visits"),
        Texts(
            "Jäsenet vierailevat toistensa tai muiden yritysten luona oppiakseen.",
            "Medlemmarna besöker varandras eller andra företag för att lära sig.",
            "Members visit each other's or other companies' premises to learn.",
        ),
        Texts(
            "Ryhmä tutustui isännän uuteen tuotantotilaan ja sen työnkulkuun.",
            "Gruppen bekantade sig med värdens nya produktionslokal och dess arbetsflöde.",
            "The group toured the host's new production hall and its workflow.",
        ),
    ),
    "mapping_knowledge_and_identifying_gaps": (
        Texts(
            "Osaamisen kartoitus ja puutteiden tunnistaminen",
            "Kartläggning av kunskap och luckor",
            "Mapping knowledge and identifying gaps",
        ),
        Texts(
            "Ryhmä selvittää, mitä osaamista jäsenillä on ja mitä puuttuu, ja miten puute "
            "täytetään.",
            "Gruppen reder ut vilken kunskap medlemmarna har och vad som saknas, och hur "
            "luckan fylls.",
            "The group works out what its members know and what is missing, and how to fill "
            "the gap.",
        ),
        Texts(
            "Ryhmä huomasi, ettei kukaan osannut vientikauppaa, ja kutsui seuraavaan "
            "tapaamiseen asiantuntijan.",
            "Gruppen märkte att ingen kunde exporthandel och bjöd in en expert till nästa möte.",
            "The group found that no one knew export trade and invited an expert to the next "
            "meeting.",
        ),
    ),
}


def first_codebook() -> CodebookInput:
    """Version 1 of the codebook ``wenger``, its codes in the contract's order."""
    codes = []
    for code in ACTIVITY_TYPES:
        name, definition, example = _TEXTS[code]
        codes.append(CodeInput(code=code, name=name, definition=definition, example=example))
    return CodebookInput(
        key=KEY,
        title=Texts(
            "Wengerin 11 käytäntöyhteisön toimintaa",
            "Wengers 11 verksamheter i praktikgemenskaper",
            "Wenger's 11 community-of-practice activities",
        ),
        citation=CITATION,
        codes=tuple(codes),
    )
