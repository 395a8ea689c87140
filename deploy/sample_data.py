"""Realistic, reproducible sample data for the demo: a living network.

Per region: core groups with facilitators (a PBAS agent and a researcher), micro-enterprises
joining, pausing, rejoining and leaving, their contact entrepreneurs (language, consents,
a few withdrawals), monthly meetings with rotating hosts (the rule of the meetings service's
``suggestNextHost``), RSVPs, reschedulings and cancellations, memos, follow-up actions,
CoP activities of all of Wenger's 11 types with example texts after the case study's
Table 1 (some meetings coded by two researchers), audio recording where every attendee
consented, joint initiatives with their history, growth-intention interviews, and, for a
meeting held in the last days before ``today``, feedback survey answers.

This module only plans (pure, seeded: the same arguments give the same plan);
``deploy.loader`` sends the plan through the services' own APIs so that it flows as events
like any agency's input.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")

REGIONS: dict[str, tuple[str, list[str]]] = {
    "oulu": ("Oulu region", ["Oulu", "Kempele", "Liminka", "Ii", "Haukipudas"]),
    "kainuu": ("Kainuu", ["Kajaani", "Sotkamo", "Kuhmo", "Suomussalmi", "Paltamo"]),
    "lappi": ("Lapland", ["Rovaniemi", "Kemi", "Tornio", "Sodankylä", "Kemijärvi"]),
    "savo": ("North Savo", ["Kuopio", "Iisalmi", "Varkaus", "Suonenjoki", "Siilinjärvi"]),
}

_PREFIXES = [
    "Kallio",
    "Revontuli",
    "Pohjan",
    "Tunturi",
    "Aurora",
    "Koillis",
    "Saimaan",
    "Lumi",
    "Taiga",
    "Hilla",
    "Karhu",
    "Kettu",
    "Pilke",
    "Sampo",
    "Ukko",
    "Kuura",
    "Routa",
    "Kaamos",
    "Vaara",
    "Jokisuun",
    "Kelo",
    "Tähti",
    "Kivi",
    "Louhi",
]
_TRADES = [
    ("Puusepät", "16230"),
    ("Leipomo", "10710"),
    ("Design", "74100"),
    ("Safarit", "79900"),
    ("Konepaja", "25620"),
    ("Tilitoimisto", "69200"),
    ("Valokuvaus", "74200"),
    ("Rakennus", "41200"),
    ("Sähkö", "43210"),
    ("Kahvila", "56101"),
    ("Hiusstudio", "96021"),
    ("IT-palvelut", "62010"),
    ("Matkailu", "55201"),
    ("Kehräämö", "13100"),
    ("Metallityö", "25110"),
    ("Mainostoimisto", "73110"),
    ("Hyvinvointi", "96040"),
    ("Kalastus", "03110"),
]
_FORMS = ["Oy", "Oy", "Ky", "Tmi"]
THEMES = [
    "Pricing our services without underselling",
    "First steps into export",
    "Hiring the first employee",
    "Social media marketing on a small budget",
    "Offer calculation software",
    "Financing growth: loans, grants, investors",
    "Cash flow in a seasonal business",
    "Joint sales trip to a trade fair",
    "Customer service as a competitive edge",
    "Working with the local development company",
    "Succession and ownership change",
    "Digital bookkeeping in practice",
    "Time management for the owner-manager",
    "Sharing a booth at the summer festival",
    "Building an exhibition house together",
    "Public procurement for micro-enterprises",
    "Product photography and web shop",
    "Coping with the busy season",
    "Subcontracting and networks",
    "Certification and quality systems",
    "Wellbeing of the entrepreneur",
    "Research news from the university",
    "Recruiting seasonal workers",
    "Copyright and trademarks",
    "Our company's story",
]
_CANCEL_REASONS = ["Host fell ill", "Snowstorm closed the roads", "Too few could attend"]

_RESCHEDULE_NOTE = "Moved at the host's request"

# Wenger's 11 typical CoP activities (shared.contracts.ACTIVITY_TYPES), each with example
# texts after the case study's Table 1 (no company or person names: events leave the region).
ACTIVITY_EXAMPLES: dict[str, tuple[str, ...]] = {
    "problem_solving": (
        "The host described the problems with calculating offers; the group sketched "
        "requirements for a shared offer-calculation program.",
        "One entrepreneur promised to help a colleague learn how to use Google Analytics.",
        "The group worked through the host's stock-keeping problem and proposed a simple "
        "weekly routine.",
    ),
    "requests_for_information": (
        "A member who wants to export to Sweden asked for contacts; an export consultant in "
        "the group offered an agent in the target market.",
        "A member asked who knows a reliable accountant for a limited company; two names "
        "were given.",
        "The host asked where to find public funding for a product launch; the facilitator "
        "pointed to the regional development company's services.",
    ),
    "seeking_experience": (
        "The host, suffering a sudden shortage of capable employees, asked how others had "
        "solved it: outsourcing, public employment services, digital networks, employee "
        "ownership.",
        "Has anyone dealt with a customer who does not pay? Members shared how they handle "
        "reminders and collection.",
        "Members told how they priced their first export orders.",
    ),
    "reusing_assets": (
        "Two members found their products shared a theme and agreed to share a sales booth, "
        "logistics and a joint campaign at the summer festivals.",
        "One member offered his van for a joint sales road trip around Eastern Finland; "
        "profits to be shared by agreement.",
        "A member shared her offer template with a colleague to adapt for a new client.",
    ),
    "coordination_and_strategy": (
        "One member proposed that ten members build an exhibition house together to "
        "showcase their capabilities; construction to start within three weeks.",
        "Two producers agreed to sell their products at a third member's sales facility.",
        "Members agreed to combine their purchases of packaging to get a bulk discount.",
    ),
    "building_an_argument": (
        "A member who had said he would never become an employer heard the group's "
        "arguments for hiring; he re-evaluated his decision.",
        "The group argued for and against raising prices before the busy season.",
        "Members collected examples from other countries to argue for a change in the "
        "municipality's procurement rules.",
    ),
    "growing_confidence": (
        "A member tested his expansion plan with the group and got the final push to start: "
        "'now that project must be started'.",
        "The host ran her idea of a second shop past the group before deciding.",
        "A member who hesitated to take a bank loan talked it through with peers who had.",
    ),
    "discussing_developments": (
        "A member shared a product idea still in development; the group gave first-hand "
        "feedback and further development ideas.",
        "Members did a ghost-shopping test of a member's store section with a structured form.",
        "A member asked the group's WhatsApp group for feedback on the company's new logo.",
    ),
    "documentation_projects": (
        "The researcher documented the meeting and noted the entrepreneurs' expressed needs "
        "for developmental support.",
        "Members agreed to write down the group's checklist for hiring seasonal workers.",
        "The facilitator updated the participant list and reminded of the feedback survey.",
    ),
    "visits": (
        "The meeting was held at the host's workshop; seeing the premises made the theme "
        "concrete for the others.",
        "The host showed the production line and the storage; members understood the "
        "business better.",
        "A tour of the host's shop opened the meeting.",
    ),
    "mapping_knowledge_and_identifying_gaps": (
        "Listening to the others' needs, one member realised the network's members could be "
        "customers for his services.",
        "The group listed what skills it lacks and which other groups it should meet.",
        "Members mapped who knows what about export markets.",
    ),
}
ACTIVITY_TYPES: tuple[str, ...] = tuple(ACTIVITY_EXAMPLES)

# The four joint initiatives of the case study: (title, activity type, members, updates).
INITIATIVES: tuple[tuple[str, str, int, tuple[tuple[str, str], ...]], ...] = (
    (
        "Joint sales road trip around Eastern Finland",
        "reusing_assets",
        4,
        (
            ("active", "Route and schedule agreed; one member's van in use."),
            ("completed", "Eight towns visited; sales shared by the joint agreement."),
        ),
    ),
    (
        "Shared sales booth at the summer festivals",
        "reusing_assets",
        2,
        (
            ("active", "Booth booked and joint branding made."),
            ("paused", "Waiting for the festival season."),
            ("active", "Three festivals; logistics and campaign costs shared."),
            ("completed", "Sales up on the year before; profits shared as agreed."),
        ),
    ),
    (
        "Offer-calculation program developed together",
        "problem_solving",
        3,
        (
            ("active", "Requirements written; a member's IT company builds a prototype."),
            ("active", "Prototype in test use by three members."),
            ("completed", "The program is in daily use; offers take a third of the time."),
        ),
    ),
    (
        "Exhibition house built by ten members",
        "coordination_and_strategy",
        10,
        (
            ("active", "Construction started within three weeks of the idea."),
            ("active", "House open to visitors, also from abroad (e.g. Japan)."),
            ("completed", "After a year: new domestic and international contacts."),
        ),
    ),
)

_FIRST_NAMES = [
    "Aino", "Eero", "Helmi", "Juha", "Kaisa", "Lauri", "Minna", "Olli", "Pirjo", "Sami",
    "Tiina", "Ville", "Anu", "Jari", "Leena", "Markku", "Riikka", "Timo", "Satu", "Heikki",
]  # fmt: skip
_SV_FIRST_NAMES = ["Anders", "Britt", "Mikael", "Sofia", "Johan", "Linnea"]
_EN_FIRST_NAMES = ["James", "Emily", "Daniel", "Sarah"]
_LAST_NAMES = [
    "Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Heikkinen", "Koskinen", "Järvinen",
    "Lehtonen", "Saarinen", "Niskanen", "Pesonen", "Kemppainen", "Halonen", "Karjalainen",
]  # fmt: skip
_SV_LAST_NAMES = ["Lindqvist", "Holmström", "Nyberg", "Sjöberg"]
_EN_LAST_NAMES = ["Smith", "Brown", "Taylor"]

_ACTIONS = [
    "Send the group the contact of the export agent",
    "Share the offer template in the group's chat",
    "Ask the development company about growth funding",
    "Find out the festival booth prices for next summer",
    "Test the new product with two customers and report back",
    "Prepare a short talk on digital bookkeeping for the next meeting",
    "Collect everyone's packaging needs for a joint order",
]
_ACTION_OUTCOMES = ["Done", "Done, shared in the meeting", "Done; more in the next meeting"]
_TAKEAWAYS = [
    "Good ideas for pricing.",
    "Hearing how others solved the same problem.",
    "New contacts for export.",
    "",
    "Seeing the host's premises.",
]
_CHANGES = ["", "", "More time for the open discussion.", "Start a bit later in the evening."]
INTENTIONS = ("yes", "no", "unsure")
BARRIERS = (
    "financing",
    "finding_employees",
    "time",
    "market_demand",
    "competence",
    "regulation",
    "owner_wellbeing",
    "location",
)
RECENT_HELD_DAYS = (3, 8)  # a meeting held this many days before today: its survey is open
UPCOMING_DAYS = (10, 20)  # and the next one planned this many days after today


@dataclass
class ContactPlan:
    key: str
    name: str
    email: str
    language: str  # fi, sv, en
    consents: list[tuple[str, datetime]] = field(default_factory=list)  # (purpose, given at)
    withdrawals: list[tuple[str, datetime]] = field(default_factory=list)

    def consents_to(self, purpose: str) -> bool:
        """In force at the end of the plan (every withdrawal is loaded before meetings)."""
        given = any(p == purpose for p, _ in self.consents)
        return given and not any(p == purpose for p, _ in self.withdrawals)


@dataclass
class InterviewPlan:
    interviewed_on: date
    intends_to_grow: str
    planned_hires: int
    barriers: list[str]
    person_key: str = ""  # the contact entrepreneur interviewed (ContactPlan.key)


@dataclass
class MemberPlan:
    key: str
    company_name: str
    business_id: str
    industry_code: str
    employees: int
    turnover_eur: int
    balance_sheet_eur: int
    joined_on: date
    left_on: date | None = None
    paused_on: date | None = None
    rejoined_on: date | None = None
    contacts: list[ContactPlan] = field(default_factory=list)
    interviews: list[InterviewPlan] = field(default_factory=list)

    def active_on(self, day: date) -> bool:
        """The meetings service's rule: the day of leaving or pausing still counts."""
        if day < self.joined_on or (self.left_on is not None and day > self.left_on):
            return False
        if self.paused_on is not None and self.paused_on < day:
            return self.rejoined_on is not None and self.rejoined_on <= day
        return True

    @property
    def consents_to_recording(self) -> bool:
        return bool(self.contacts) and all(c.consents_to("audio_recording") for c in self.contacts)


@dataclass
class FacilitatorPlan:
    key: str
    name: str
    email: str
    role: str  # agency_agent, researcher
    assigned_on: date


@dataclass
class ActivityPlan:
    type: str
    example: str
    member_keys: list[str]
    coder_key: str | None


@dataclass
class ActionPlan:
    owner_key: str
    description: str
    due_on: date
    closed_on: date | None = None
    outcome: str = ""


@dataclass
class ResponsePlan:
    member_key: str
    overall: int
    usefulness: int
    recommend: int
    takeaway: str
    change: str


@dataclass
class MeetingPlan:
    host_key: str
    theme: str
    starts_at: datetime
    attendee_keys: list[str]
    cancelled_reason: str | None = None
    status: str = "held"  # held, cancelled, planned (in the future)
    scheduled_at: datetime | None = None  # first planned time, if it was rescheduled
    rsvps: list[tuple[str, bool]] = field(default_factory=list)
    memo: str | None = None
    memo_by: str | None = None  # facilitator key
    recorded: bool = False
    actions: list[ActionPlan] = field(default_factory=list)
    activities: list[ActivityPlan] = field(default_factory=list)
    responses: list[ResponsePlan] = field(default_factory=list)  # via the web form
    paper_responses: list[ResponsePlan] = field(default_factory=list)  # after closing

    @property
    def day(self) -> date:
        return self.starts_at.astimezone(HELSINKI).date()


@dataclass
class InitiativePlan:
    title: str
    meeting_index: int  # the held meeting of the group it started in
    member_keys: list[str]
    started_on: date
    updates: list[tuple[str, str, date]]  # (status, outcome, on)


CSV_HEADER = (
    "company_name,business_id,industry_code,employees,turnover_eur,joined_on,"
    "contact_name,contact_email,language"
)


@dataclass
class CsvImportPlan:
    """The agency's old member list, imported once the group runs: first sent with two bad
    rows (refused as a whole, each bad row reported), then fixed and imported."""

    refused_csv: str
    fixed_csv: str
    bad_lines: tuple[int, ...]  # line numbers (header = 1) the refusal must name
    rows: int  # members added by the fixed file, each with one contact person


@dataclass
class GroupPlan:
    key: str
    name: str
    municipality: str
    founded_on: date
    members: list[MemberPlan] = field(default_factory=list)
    meetings: list[MeetingPlan] = field(default_factory=list)
    facilitators: list[FacilitatorPlan] = field(default_factory=list)
    initiatives: list[InitiativePlan] = field(default_factory=list)
    csv_import: CsvImportPlan | None = None  # loaded after every meeting
    erase_contact: str = ""  # ContactPlan.key of a person erased on request, loaded last

    def member(self, key: str) -> MemberPlan:
        return next(m for m in self.members if m.key == key)

    @property
    def group_writes(self) -> int:
        """Writes to the groups service (each emits one event)."""
        total = 1 + len(self.members) + len(self.facilitators)
        for m in self.members:
            total += bool(m.left_on) + bool(m.paused_on) + bool(m.rejoined_on)
            for c in m.contacts:
                total += 1 + len(c.consents) + len(c.withdrawals)
        if self.csv_import is not None:  # the refused file emits nothing
            total += 2 * self.csv_import.rows  # MemberJoined + PersonRegistered per row
        total += bool(self.erase_contact)  # PersonErased (and withdrawals, not counted)
        return total

    @property
    def meeting_writes(self) -> int:
        """Writes to the meetings service (each emits one event)."""
        total = 0
        for m in self.meetings:
            total += 1 + (m.status != "planned") + bool(m.scheduled_at) + len(m.rsvps)
            total += bool(m.memo) + m.recorded + len(m.activities)
            total += sum(1 + bool(a.closed_on) for a in m.actions)
        total += sum(1 + len(i.updates) for i in self.initiatives)
        return total

    @property
    def feedback_writes(self) -> int:
        """Interviews recorded and survey answers submitted (one event each)."""
        return sum(len(m.interviews) for m in self.members) + sum(
            len(m.responses) + len(m.paper_responses) for m in self.meetings
        )

    @property
    def writes(self) -> int:
        return self.group_writes + self.meeting_writes + self.feedback_writes

    def survey_events(self, today: date | None) -> int:
        """Events the feedback service emits by itself: a survey opened per held meeting,
        and closed at once if held over a year before ``today`` (survey_days is at most 365)."""
        held = [m for m in self.meetings if m.status == "held"]
        old = [m for m in held if today is not None and m.day < today - timedelta(days=366)]
        return len(held) + len(old)


@dataclass
class RegionPlan:
    region: str
    display_name: str
    groups: list[GroupPlan] = field(default_factory=list)
    today: date | None = None

    @property
    def writes(self) -> int:
        """API calls the loader will make for this region (each emits one event)."""
        return sum(g.writes for g in self.groups)

    @property
    def events(self) -> int:
        """At least this many events reach the nation: every write's and the surveys'."""
        return self.writes + sum(g.survey_events(self.today) for g in self.groups)


def business_id(rng: random.Random) -> str:
    """A random Finnish business id (Y-tunnus) with a valid check digit."""
    while True:
        digits = [rng.randrange(10) for _ in range(7)]
        remainder = sum(d * w for d, w in zip(digits, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        if remainder != 1:
            check = 0 if remainder == 0 else 11 - remainder
            return "".join(map(str, digits)) + f"-{check}"


def plan_region(
    region: str,
    *,
    groups: int = 2,
    first_year: int = 2015,
    last_year: int = 2019,
    seed: int = 7,
    today: date | None = None,
) -> RegionPlan:
    """The region's plan. With ``today``, each group also meets a few days before it (its
    feedback survey still open, answers planned) and has its next meeting planned after it."""
    display_name, towns = REGIONS.get(region, (region.title(), [region.title()]))
    rng = random.Random(f"{seed}-{region}")
    plan = RegionPlan(region, display_name, today=today)
    horizon = date(last_year, 12, 31) if today is None else min(date(last_year, 12, 31), today)
    for g in range(groups):
        town = towns[g % len(towns)]
        founded = date(
            first_year + (g % 2 if first_year < last_year else 0), rng.choice([1, 2, 3, 9]), 1
        )
        group = GroupPlan(f"{region}-g{g}", f"{town} core group", town, founded)
        _plan_facilitators(group, rng, second_coder=g == 0)
        _plan_members(group, rng, last_year)
        _cap_members(group, horizon)
        _plan_meetings(group, rng, last_year, today)
        _plan_activities(group, rng)
        _plan_initiatives(
            group, rng, [i for i in range(len(INITIATIVES)) if groups == 1 or i % 2 == g % 2]
        )
        _plan_interviews(group, rng, last_year)
        _cap_followups(group, horizon)
        _plan_paper_responses(group, seed, today)
        if g == 0:  # every region shows a CSV import and an erasure
            group.csv_import = _plan_csv_import(group, seed, horizon)
            group.erase_contact = _erasure(group)
        plan.groups.append(group)
    return plan


def _person_name(rng: random.Random, language: str) -> tuple[str, str]:
    first, last = {
        "fi": (_FIRST_NAMES, _LAST_NAMES),
        "sv": (_SV_FIRST_NAMES, _SV_LAST_NAMES),
        "en": (_EN_FIRST_NAMES, _EN_LAST_NAMES),
    }[language]
    return rng.choice(first), rng.choice(last)


def _email(first: str, last: str, domain: str) -> str:
    plain = f"{first}.{last}".lower()
    for a, b in (("ä", "a"), ("ö", "o"), ("å", "a")):
        plain = plain.replace(a, b)
    return f"{plain}@{domain}"


def _plan_facilitators(group: GroupPlan, rng: random.Random, *, second_coder: bool) -> None:
    roles = [("agency_agent", "kehitysyhtio.example.fi"), ("researcher", "oulu.example.fi")]
    if second_coder:  # a second researcher codes some meetings too (coding agreement)
        roles.append(("researcher", "oulu.example.fi"))
    for i, (role, domain) in enumerate(roles):
        first, last = _person_name(rng, "fi")
        group.facilitators.append(
            FacilitatorPlan(
                key=f"{group.key}-f{i}",
                name=f"{first} {last}",
                email=_email(first, last, domain),
                role=role,
                assigned_on=group.founded_on,
            )
        )


def _new_member(group: GroupPlan, rng: random.Random, joined: date) -> MemberPlan:
    trade, code = rng.choice(_TRADES)
    employees = rng.choice([0, 1, 1, 2, 2, 3, 4, 5, 6, 8, 9])
    turnover = rng.randrange(40, 1900) * 1000
    member = MemberPlan(
        key=f"{group.key}-m{len(group.members)}",
        company_name=f"{rng.choice(_PREFIXES)} {trade} {rng.choice(_FORMS)}",
        business_id=business_id(rng),
        industry_code=code,
        employees=employees,
        turnover_eur=turnover,
        balance_sheet_eur=int(turnover * rng.uniform(0.3, 0.9)),
        joined_on=joined,
    )
    _plan_contacts(member, rng)
    return member


def _plan_contacts(member: MemberPlan, rng: random.Random) -> None:
    """One contact entrepreneur, sometimes two: mostly Finnish-speaking, some Swedish, a few
    English; most consent to research use and audio recording when joining."""
    joined_at = datetime.combine(member.joined_on, time(18, 0), HELSINKI)
    for i in range(1 if rng.random() < 0.85 else 2):
        roll = rng.random()
        language = "fi" if roll < 0.8 else "sv" if roll < 0.94 else "en"
        first, last = _person_name(rng, language)
        contact = ContactPlan(
            key=f"{member.key}-p{i}",
            name=f"{first} {last}",
            email=_email(first + (str(i) if i else ""), last, f"{member.key}.example.fi"),
            language=language,
        )
        if rng.random() < 0.93:
            contact.consents.append(("research_use", joined_at))
        if rng.random() < 0.88:
            contact.consents.append(("audio_recording", joined_at))
            if rng.random() < 0.06:  # a few change their mind later
                later = joined_at + timedelta(days=rng.randint(60, 400))
                contact.withdrawals.append(("audio_recording", later))
        if rng.random() < 0.4:
            contact.consents.append(("contact_sharing", joined_at))
        member.contacts.append(contact)


def _plan_members(group: GroupPlan, rng: random.Random, last_year: int) -> None:
    for _ in range(rng.randint(10, 14)):
        group.members.append(_new_member(group, rng, group.founded_on))
    for year in range(group.founded_on.year + 1, last_year + 1):
        active = [m for m in group.members if m.left_on is None]
        for leaver in rng.sample(active, k=min(len(active) - 6, rng.randint(0, 2))):
            leaver.left_on = date(year, rng.randint(1, 12), 28)
        for _ in range(rng.randint(1, 3)):
            group.members.append(_new_member(group, rng, date(year, rng.randint(1, 11), 15)))
    # Some members take a break of a few months and come back (never one who leaves).
    stayers = [m for m in group.members if m.left_on is None]
    for member in rng.sample(stayers, k=min(2, len(stayers))):
        start = member.joined_on + timedelta(days=rng.randint(120, 500))
        if start.year > last_year:
            continue
        member.paused_on = start
        member.rejoined_on = start + timedelta(days=rng.randint(60, 180))


def _choose_host(group: GroupPlan, day: date, last_hosted: dict[str, date]) -> MemberPlan:
    """``suggestNextHost``'s rule: active that day, never hosted first, then who hosted
    least recently, then who joined first (the service then orders by id, we by key)."""
    active = [m for m in group.members if m.active_on(day)]
    return min(
        active,
        key=lambda m: (m.key in last_hosted, last_hosted.get(m.key, date.min), m.joined_on, m.key),
    )


def _plan_meetings(
    group: GroupPlan, rng: random.Random, last_year: int, today: date | None
) -> None:
    last_hosted: dict[str, date] = {}
    days: list[tuple[date, str]] = []
    month = date(group.founded_on.year, group.founded_on.month, 1)
    while month.year <= last_year:
        if month.month != 7:  # summer break
            days.append((month + timedelta(days=rng.randint(7, 24)), "held"))
        month = (month + timedelta(days=32)).replace(day=1)
    if today is not None:  # history up to a month ago; then the recent and the next meeting
        days = [(day, kind) for day, kind in days if day < today - timedelta(days=30)]
        days.append((today - timedelta(days=rng.randint(*RECENT_HELD_DAYS)), "recent"))
        days.append((today + timedelta(days=rng.randint(*UPCOMING_DAYS)), "planned"))
    for day, kind in days:
        starts_at = datetime.combine(day, time(17, 30), HELSINKI)
        host = _choose_host(group, day, last_hosted)
        active = [m for m in group.members if m.active_on(day)]
        others = [m.key for m in active if m is not host]
        coming = rng.sample(others, k=max(1, int(len(others) * rng.uniform(0.45, 0.9))))
        attendees = [host.key, *sorted(coming)]
        meeting = MeetingPlan(host.key, rng.choice(THEMES), starts_at, attendees)
        if kind == "planned":
            meeting.status = "planned"
            meeting.attendee_keys = []
        elif kind == "held" and rng.random() < 0.04:
            meeting.status = "cancelled"
            meeting.cancelled_reason = rng.choice(_CANCEL_REASONS)
        if kind == "held" and rng.random() < 0.08:  # first planned a few days earlier
            earlier = starts_at - timedelta(days=rng.randint(2, 6))
            if host.active_on(earlier.date()):
                meeting.scheduled_at = earlier
        # Answers to the invitation: the last year's meetings and the recent ones.
        if kind != "held" or day.year == last_year or rng.random() < 0.1:
            answering = rng.sample(others, k=min(len(others), rng.randint(3, 7)))
            meeting.rsvps = [
                (key, key in coming if rng.random() < 0.9 else key not in coming)
                for key in sorted(answering)
            ]
        if meeting.status != "cancelled":
            last_hosted[host.key] = day
        if meeting.status != "held":
            group.meetings.append(meeting)
            continue
        meeting.memo_by = group.facilitators[0 if rng.random() < 0.6 else 1].key
        consenting = all(group.member(k).consents_to_recording for k in attendees)
        meeting.recorded = consenting and rng.random() < 0.6
        if rng.random() < 0.45:
            owner = rng.choice(attendees)
            closed = day + timedelta(days=rng.randint(20, 60))
            done = kind != "recent" and rng.random() < 0.9
            meeting.actions.append(
                ActionPlan(
                    owner_key=owner,
                    description=rng.choice(_ACTIONS),
                    due_on=day + timedelta(days=30),
                    closed_on=closed if done else None,
                    outcome=rng.choice(_ACTION_OUTCOMES) if done else "",
                )
            )
        if kind == "recent":
            for key in attendees:
                if rng.random() < 0.7:
                    overall = rng.choice([3, 4, 4, 5, 5])
                    meeting.responses.append(
                        ResponsePlan(
                            member_key=key,
                            overall=overall,
                            usefulness=max(1, min(5, overall + rng.choice([-1, 0, 0, 1]))),
                            recommend=min(10, overall * 2 + rng.choice([-1, 0, 0, 1])),
                            takeaway=rng.choice(_TAKEAWAYS),
                            change=rng.choice(_CHANGES),
                        )
                    )
        group.meetings.append(meeting)  # activities and memo: _plan_activities


def _plan_activities(group: GroupPlan, rng: random.Random) -> None:
    """CoP activities for held meetings: every one of the 11 types in every group, more over
    the years; the memo sums them up. The first group's second researcher also codes some
    meetings (mostly agreeing with the first coder, so coding agreement can be computed)."""
    held = [m for m in group.meetings if m.status == "held"]
    researchers = [f.key for f in group.facilitators if f.role == "researcher"]
    if not held:
        return
    must = list(ACTIVITY_TYPES)
    rng.shuffle(must)
    for i, kind in enumerate(must):
        _add_activity(held[(i * 7 + 3) % len(held)], kind, rng, researchers[0])
    for meeting in held:
        for _ in range(rng.choice([0, 1, 1, 1, 2])):
            kind = rng.choice(ACTIVITY_TYPES)
            if kind not in {a.type for a in meeting.activities}:
                _add_activity(meeting, kind, rng, researchers[0])
        if "visits" not in {a.type for a in meeting.activities} and rng.random() < 0.15:
            _add_activity(meeting, "visits", rng, researchers[0])
    if len(researchers) > 1:
        for meeting in held:
            if meeting.activities and rng.random() < 0.2:
                for first in list(meeting.activities):
                    agrees = rng.random() < 0.8
                    kind = first.type if agrees else rng.choice(ACTIVITY_TYPES)
                    meeting.activities.append(
                        ActivityPlan(kind, first.example, list(first.member_keys), researchers[1])
                    )
    for meeting in held:
        found = sorted({a.type.replace("_", " ") for a in meeting.activities})
        meeting.memo = (
            f"Theme: {meeting.theme}. The host opened with the company's background and why "
            f"the theme matters now; {len(meeting.attendee_keys)} members took part in the "
            "open discussion."
            + (f" Observed: {', '.join(found)}." if found else "")
            + (f" Agreed: {meeting.actions[0].description.lower()}." if meeting.actions else "")
        )


def _add_activity(meeting: MeetingPlan, kind: str, rng: random.Random, coder: str) -> None:
    involved = rng.sample(
        meeting.attendee_keys, k=min(len(meeting.attendee_keys), rng.randint(1, 3))
    )
    if kind == "visits":
        involved = [meeting.host_key]
    meeting.activities.append(
        ActivityPlan(kind, rng.choice(ACTIVITY_EXAMPLES[kind]), sorted(involved), coder)
    )


def _plan_initiatives(group: GroupPlan, rng: random.Random, which: list[int]) -> None:
    held = [i for i, m in enumerate(group.meetings) if m.status == "held"]
    if len(held) < 3:
        return
    for n, ref in enumerate(which):
        title, kind, size, steps = INITIATIVES[ref]
        index = held[(len(held) * (n + 1)) // (len(which) + 2)]
        meeting = group.meetings[index]
        members = rng.sample(meeting.attendee_keys, k=min(size, len(meeting.attendee_keys)))
        if kind not in {a.type for a in meeting.activities}:
            meeting.activities.append(
                ActivityPlan(
                    kind,
                    ACTIVITY_EXAMPLES[kind][0 if ref != 0 else 1],
                    sorted(members),
                    next(f.key for f in group.facilitators if f.role == "researcher"),
                )
            )
        on = meeting.day
        updates = []
        for status, outcome in steps:
            on = on + timedelta(days=rng.randint(40, 120))
            updates.append((status, outcome, on))
        group.initiatives.append(
            InitiativePlan(title, index, sorted(members), meeting.day, updates)
        )


def _cap_members(group: GroupPlan, horizon: date) -> None:
    """Nothing of the members' history after ``horizon`` (today: the services refuse some
    future dates, and the future is not history)."""
    group.members = [m for m in group.members if m.joined_on <= horizon]
    for member in group.members:
        if member.left_on and member.left_on > horizon:
            member.left_on = None
        if member.paused_on and member.paused_on > horizon:
            member.paused_on = member.rejoined_on = None
        if member.rejoined_on and member.rejoined_on > horizon:
            member.rejoined_on = None  # still on a break
        for contact in member.contacts:
            contact.withdrawals = [w for w in contact.withdrawals if w[1].date() <= horizon]


def _cap_followups(group: GroupPlan, horizon: date) -> None:
    """Actions closed, initiatives updated and interviews held by ``horizon`` only."""
    for meeting in group.meetings:
        for action in meeting.actions:
            if action.closed_on and action.closed_on > horizon:
                action.closed_on, action.outcome = None, ""
    for initiative in group.initiatives:
        initiative.updates = [u for u in initiative.updates if u[2] <= horizon]
    for member in group.members:
        member.interviews = [i for i in member.interviews if i.interviewed_on <= horizon]


def _plan_csv_import(group: GroupPlan, seed: int, joined: date) -> CsvImportPlan:
    """Three members from the agency's spreadsheet; in the first attempt one has too many
    employees for a micro-enterprise and one a mistyped business id (bad check digit)."""
    rng = random.Random(f"{seed}-{group.key}-csv")  # its own: the rest of the plan stays
    rows: list[list[str]] = []
    for i in range(3):
        trade, code = rng.choice(_TRADES)
        first, last = _person_name(rng, "fi")
        rows.append(
            [
                f"{rng.choice(_PREFIXES)} {trade} {rng.choice(_FORMS)}",
                business_id(rng),
                code,
                str(rng.randint(1, 8)),
                str(rng.randrange(60, 1500) * 1000),
                joined.isoformat(),
                f"{first} {last}",
                _email(first, last, f"{group.key}-csv{i}.example.fi"),
                "fi",
            ]
        )
    fixed = [CSV_HEADER, *(",".join(r) for r in rows)]
    bad = [list(r) for r in rows]
    bad[1][3] = "12"  # line 3: not a micro-enterprise
    digits, check = bad[2][1].split("-")
    bad[2][1] = f"{digits}-{(int(check) + 1) % 10}"  # line 4: wrong check digit
    refused = [CSV_HEADER, *(",".join(r) for r in bad)]
    return CsvImportPlan("\n".join(refused) + "\n", "\n".join(fixed) + "\n", (3, 4), len(rows))


def _response(rng: random.Random, key: str, mood: int) -> ResponsePlan:
    overall = max(1, min(5, mood + rng.choice([-1, 0, 0, 0, 1])))
    return ResponsePlan(
        member_key=key,
        overall=overall,
        usefulness=max(1, min(5, overall + rng.choice([-1, 0, 0, 1]))),
        recommend=max(0, min(10, overall * 2 + rng.choice([-2, -1, 0, 0, 1]))),
        takeaway=rng.choice(_TAKEAWAYS) if rng.random() < 0.5 else "",
        change=rng.choice(_CHANGES) if rng.random() < 0.3 else "",
    )


def _plan_paper_responses(group: GroupPlan, seed: int, today: date | None) -> None:
    """The agency's historical feedback: for each held meeting whose survey has closed, 40-90%
    of the attendees answered (on paper, recorded afterwards), ratings mostly good, a weaker
    meeting now and then."""
    rng = random.Random(f"{seed}-{group.key}-paper")  # its own: the rest of the plan stays
    for meeting in group.meetings:
        recent = today is not None and meeting.day > today - timedelta(days=30)
        if meeting.status != "held" or meeting.responses or recent:
            continue  # a recent meeting's survey is still open: answers via the form
        rate = rng.uniform(0.4, 0.9)
        mood = rng.choice([3, 4, 4, 4, 5, 5])
        answering = [k for k in meeting.attendee_keys if rng.random() < rate]
        meeting.paper_responses = [_response(rng, key, mood) for key in answering]


def _erasure(group: GroupPlan) -> str:
    """A person erased on request: preferably an entrepreneur of a member that left; else
    one of a member with no survey answers planned (its links are deleted with it)."""
    for member in group.members:
        if member.left_on and member.contacts:
            return member.contacts[0].key
    answering = {r.member_key for m in group.meetings for r in m.responses}
    for member in reversed(group.members):
        if member.key not in answering and member.contacts:
            return member.contacts[-1].key
    return ""


def _plan_interviews(group: GroupPlan, rng: random.Random, last_year: int) -> None:
    """Growth-intention interviews of the member's entrepreneurs after half a year in the
    network, then yearly."""
    for member in group.members:
        on = member.joined_on + timedelta(days=rng.randint(150, 240))
        intention = rng.choice(INTENTIONS)
        end = member.left_on or date(last_year, 12, 31)
        while on <= end and len(member.interviews) < 3:
            barriers = sorted(rng.sample(BARRIERS, k=rng.randint(0, 3)))
            hires = rng.choice([0, 0, 1, 1, 2]) if intention == "yes" else 0
            # With two entrepreneurs, they are interviewed in turn: each has a history.
            person = member.contacts[len(member.interviews) % len(member.contacts)].key
            member.interviews.append(InterviewPlan(on, intention, hires, barriers, person))
            # Over time the network nudges intentions towards growth.
            if intention != "yes" and rng.random() < 0.4:
                intention = "yes" if intention == "unsure" else "unsure"
            on += timedelta(days=rng.randint(330, 400))


def add_member_groups(
    plan: RegionPlan, *, members: int, per_group: int = 30, seed: int = 7
) -> None:
    """Groups with members (and their contact entrepreneurs) but no meetings, added to
    ``plan`` until the region has ``members`` member companies: a region at the network's
    full size for benchmarks (``bench/console.py``), without loading years of meetings."""
    rng = random.Random(f"{seed}-{plan.region}-members")
    _, towns = REGIONS.get(plan.region, (plan.region, [plan.region.title()]))
    total = sum(len(g.members) for g in plan.groups)
    while total < members:
        n = len(plan.groups)
        town = towns[n % len(towns)]
        founded = date(2020, rng.choice([1, 2, 3, 9]), 1)
        group = GroupPlan(f"{plan.region}-g{n}", f"{town} core group {n + 1}", town, founded)
        _plan_facilitators(group, rng, second_coder=False)
        for _ in range(min(per_group, members - total)):
            group.members.append(_new_member(group, rng, founded + timedelta(days=14)))
        total += len(group.members)
        plan.groups.append(group)
