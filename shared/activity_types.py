"""The 11 community-of-practice activity types (Wenger, McDermott & Snyder 2002): the one
definition of their codes (the event contract's ``ACTIVITY_TYPES``), names and descriptions
in fi, sv and en. The meetings API lists them for the facilitator's form; the gateway's
first research codebook takes its names and definitions from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from shared.contracts.meetings import ACTIVITY_TYPES
from shared.i18n import LANGUAGES, Language


@dataclass(frozen=True, slots=True)
class Texts:
    """One text in the project's three languages."""

    fi: str
    sv: str
    en: str

    def get(self, language: Language | str) -> str:
        return str(getattr(self, language if language in LANGUAGES else "en"))


@dataclass(frozen=True, slots=True)
class ActivityTypeText:
    code: str
    name: Texts
    description: Texts


ACTIVITY_TYPE_TEXTS: Final[Mapping[str, ActivityTypeText]] = {
    "problem_solving": ActivityTypeText(
        code="problem_solving",
        name=Texts("Ongelmanratkaisu", "Problemlösning", "Problem-solving"),
        description=Texts(
            "Jäsen tuo ryhmälle oman yrityksensä ongelman, ja ryhmä pohtii sitä yhdessä "
            "ratkaisuun asti.",
            "En medlem tar upp ett problem i sitt eget företag och gruppen löser det tillsammans.",
            "A member brings a problem of the company to the group and the group works on it "
            "together towards a solution.",
        ),
    ),
    "requests_for_information": ActivityTypeText(
        code="requests_for_information",
        name=Texts("Tiedon pyytäminen", "Begäran om information", "Requests for information"),
        description=Texts(
            "Jäsen kysyy ryhmältä tietoa: kenen puoleen kääntyä, mistä jotain saa, miten jokin "
            "asia hoidetaan.",
            "En medlem frågar gruppen om information: vem man vänder sig till, var man får "
            "något, hur något sköts.",
            "A member asks the group for information: whom to turn to, where to get something, "
            "how a matter is handled.",
        ),
    ),
    "seeking_experience": ActivityTypeText(
        code="seeking_experience",
        name=Texts("Kokemusten hakeminen", "Att söka erfarenheter", "Seeking experience"),
        description=Texts(
            "Jäsen kysyy, onko joku muu jo kokeillut jotakin, ja kuulee toisten kokemukset ennen "
            "omaa päätöstään.",
            "En medlem frågar om någon redan har prövat något och hör de andras erfarenheter "
            "före sitt eget beslut.",
            "A member asks whether anyone has tried something already and hears the others' "
            "experience before deciding.",
        ),
    ),
    "reusing_assets": ActivityTypeText(
        code="reusing_assets",
        name=Texts("Resurssien yhteiskäyttö", "Att återanvända resurser", "Reusing assets"),
        description=Texts(
            "Jäsenet käyttävät yhdessä tai toistensa tiloja, laitteita, materiaaleja tai "
            "logistiikkaa.",
            "Medlemmarna använder lokaler, utrustning, material eller logistik tillsammans eller "
            "av varandra.",
            "Members share or reuse each other's premises, equipment, material or logistics.",
        ),
    ),
    "coordination_and_strategy": ActivityTypeText(
        code="coordination_and_strategy",
        name=Texts(
            "Koordinointi ja strategia", "Samordning och strategi", "Coordination and strategy"
        ),
        description=Texts(
            "Jäsenet sopivat yhteisestä tekemisestä, työnjaosta tai suunnasta ja toteuttavat sen "
            "yhdessä.",
            "Medlemmarna kommer överens om gemensamt arbete, arbetsfördelning eller riktning och "
            "genomför det tillsammans.",
            "Members agree on joint work, a division of labour or a direction, and carry it out "
            "together.",
        ),
    ),
    "building_an_argument": ActivityTypeText(
        code="building_an_argument",
        name=Texts("Perustelujen rakentaminen", "Att bygga argument", "Building an argument"),
        description=Texts(
            "Ryhmä auttaa jäsentä kokoamaan perustelut päätökselle tai kannalle, jota hän "
            "harkitsee.",
            "Gruppen hjälper en medlem att samla argument för ett beslut eller en hållning som "
            "hon eller han överväger.",
            "The group helps a member put together the case for a decision or a position the "
            "member is weighing.",
        ),
    ),
    "growing_confidence": ActivityTypeText(
        code="growing_confidence",
        name=Texts("Itseluottamuksen kasvu", "Växande självförtroende", "Growing confidence"),
        description=Texts(
            "Jäsen saa ryhmältä rohkaisua ja vahvistusta kokeilla jotain uutta tai jatkaa "
            "valitsemallaan tiellä.",
            "En medlem får uppmuntran och bekräftelse av gruppen att pröva något nytt eller "
            "fortsätta på den valda vägen.",
            "A member gains encouragement and reassurance from the group to try something new or "
            "keep to a chosen path.",
        ),
    ),
    "discussing_developments": ActivityTypeText(
        code="discussing_developments",
        name=Texts(
            "Kehityksestä keskustelu", "Att diskutera utveckling", "Discussing developments"
        ),
        description=Texts(
            "Jäsenet keskustelevat alan, markkinoiden, lainsäädännön tai tekniikan muutoksista "
            "ja niiden merkityksestä omalle yritykselle.",
            "Medlemmarna diskuterar förändringar i branschen, på marknaden, i lagstiftningen "
            "eller tekniken och vad de betyder för det egna företaget.",
            "Members discuss changes in their trade, market, regulation or technology and what "
            "they mean for their companies.",
        ),
    ),
    "documentation_projects": ActivityTypeText(
        code="documentation_projects",
        name=Texts("Dokumentointihankkeet", "Dokumentationsprojekt", "Documentation projects"),
        description=Texts(
            "Jäsenet tuottavat yhdessä kirjallista tai muuta pysyvää aineistoa, jota muutkin "
            "voivat käyttää.",
            "Medlemmarna tar tillsammans fram skriftligt eller annat bestående material som även "
            "andra kan använda.",
            "Members produce written or other lasting material together that others can use.",
        ),
    ),
    "visits": ActivityTypeText(
        code="visits",
        name=Texts("Vierailut", "Besök", "Visits"),
        description=Texts(
            "Jäsenet vierailevat toistensa tai muiden yritysten luona oppiakseen.",
            "Medlemmarna besöker varandras eller andra företag för att lära sig.",
            "Members visit each other's or other companies' premises to learn.",
        ),
    ),
    "mapping_knowledge_and_identifying_gaps": ActivityTypeText(
        code="mapping_knowledge_and_identifying_gaps",
        name=Texts(
            "Osaamisen kartoitus ja puutteiden tunnistaminen",
            "Kartläggning av kunskap och luckor",
            "Mapping knowledge and identifying gaps",
        ),
        description=Texts(
            "Ryhmä selvittää, mitä osaamista jäsenillä on ja mitä puuttuu, ja miten puute "
            "täytetään.",
            "Gruppen reder ut vilken kunskap medlemmarna har och vad som saknas, och hur luckan "
            "fylls.",
            "The group works out what its members know and what is missing, and how to fill the "
            "gap.",
        ),
    ),
}


assert tuple(ACTIVITY_TYPE_TEXTS) == ACTIVITY_TYPES, "one text per contract type, in its order"

__all__ = ["ACTIVITY_TYPES", "ACTIVITY_TYPE_TEXTS", "ActivityTypeText", "Texts"]
