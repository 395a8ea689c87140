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
from shared.activity_types import ACTIVITY_TYPE_TEXTS
from shared.contracts.meetings import ACTIVITY_TYPES

KEY = "wenger"
CITATION = (
    "Wenger, E., McDermott, R. & Snyder, W. M. (2002). Cultivating Communities of Practice. "
    "Harvard Business School Press; coded as in the MicroENTRE Growth Network case study, "
    "Table 1."
)

# code: its example in the network's own words (fi, sv, en); names and definitions are
# shared.activity_types' (the one definition of the types)
_EXAMPLES: dict[str, Texts] = {
    "problem_solving": Texts(
        "Isäntä kertoi kassavirtaongelmasta, ja ryhmä kävi läpi laskutuksen nopeuttamisen keinot.",
        "Värden berättade om ett kassaflödesproblem och gruppen gick igenom hur faktureringen "
        "kan snabbas upp.",
        "The host described a cash-flow problem and the group went through ways to invoice faster.",
    ),
    "requests_for_information": Texts(
        "Jäsen kysyi, mistä saa luotettavan tilitoimiston pienelle yritykselle.",
        "En medlem frågade var man hittar en pålitlig redovisningsbyrå för ett litet företag.",
        "A member asked where to find a reliable accounting firm for a small company.",
    ),
    "seeking_experience": Texts(
        "Ennen verkkokaupan avaamista jäsen kuuli kolmen muun kokemukset maksupalveluista.",
        "Innan webbutiken öppnades hörde en medlem tre andras erfarenheter av betaltjänster.",
        "Before opening an online shop a member heard three others' experience of payment "
        "services.",
    ),
    "reusing_assets": Texts(
        "Kaksi jäsentä jakoi festivaalin myyntikojun ja kuljetukset.",
        "Två medlemmar delade ett försäljningsstånd på en festival och transporterna.",
        "Two members shared a festival sales booth and its logistics.",
    ),
    "coordination_and_strategy": Texts(
        "Kymmenen jäsentä rakensi yhdessä näyttelytalon kolmessa viikossa.",
        "Tio medlemmar byggde tillsammans ett utställningshus på tre veckor.",
        "Ten members built an exhibition house together within three weeks.",
    ),
    "building_an_argument": Texts(
        "Jäsen palkkasi ensimmäisen työntekijänsä, kun ryhmä oli perustellut sen puolesta.",
        "En medlem anställde sin första anställda efter att gruppen argumenterat för det.",
        "A member hired his first employee after the group argued for it.",
    ),
    "growing_confidence": Texts(
        "Ryhmän tuella jäsen nosti hintojaan ensimmäistä kertaa viiteen vuoteen.",
        "Med gruppens stöd höjde en medlem sina priser för första gången på fem år.",
        "With the group's support a member raised prices for the first time in five years.",
    ),
    "discussing_developments": Texts(
        "Ryhmä keskusteli uusista arvonlisäverosäännöistä ja niiden vaikutuksesta hinnoitteluun.",
        "Gruppen diskuterade de nya momsreglerna och hur de påverkar prissättningen.",
        "The group discussed new VAT rules and their effect on pricing.",
    ),
    "documentation_projects": Texts(
        "Kolme jäsentä kehitti yhdessä tarjouslaskentaohjelman.",
        "Tre medlemmar utvecklade tillsammans ett program för offertberäkning.",
        "Three members co-developed an offer-calculation program.",
    ),
    "visits": Texts(
        "Ryhmä tutustui isännän uuteen tuotantotilaan ja sen työnkulkuun.",
        "Gruppen bekantade sig med värdens nya produktionslokal och dess arbetsflöde.",
        "The group toured the host's new production hall and its workflow.",
    ),
    "mapping_knowledge_and_identifying_gaps": Texts(
        "Ryhmä huomasi, ettei kukaan osannut vientikauppaa, ja kutsui seuraavaan tapaamiseen "
        "asiantuntijan.",
        "Gruppen märkte att ingen kunde exporthandel och bjöd in en expert till nästa möte.",
        "The group found that no one knew export trade and invited an expert to the next meeting.",
    ),
}


def first_codebook() -> CodebookInput:
    """Version 1 of the codebook ``wenger``, its codes in the contract's order."""
    codes = []
    for code in ACTIVITY_TYPES:
        shared = ACTIVITY_TYPE_TEXTS[code]
        codes.append(
            CodeInput(
                code=code,
                name=Texts(shared.name.fi, shared.name.sv, shared.name.en),
                definition=Texts(
                    shared.description.fi, shared.description.sv, shared.description.en
                ),
                example=_EXAMPLES[code],
            )
        )
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
