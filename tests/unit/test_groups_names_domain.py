"""Names in the groups domain: folding, masking a memo's names, TOL 2008 codes, duplicate
warnings, dates in the future (plain Python, no I/O)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.groups.domain import Enterprise, Group
from services.groups.domain.enterprise import duplicate_warnings, field_problems
from services.groups.domain.industry import check_industry_code, classification, lookup, search
from services.groups.domain.names import (
    KnownName,
    MaskedName,
    NameMask,
    collation_key,
    erased_digests,
    fold,
    region_salt,
    stems,
)
from shared.errors.groups import (
    DateInFuture,
    DuplicateBusinessId,
    DuplicateCompanyName,
)

TODAY = date(2026, 12, 7)
NAMES = [
    KnownName("Åsa Öberg", "person"),
    KnownName("Matti Virtanen", "person"),
    KnownName("Onni Ääkkönen", "person"),
    KnownName("Bo Li", "person"),
    KnownName("Paja Oy", "company"),
    KnownName("Kahvila Aurinko Oy", "company"),
]


def mask(text: str, **kwargs: object) -> str:
    return NameMask(NAMES, **kwargs).apply(text).text  # type: ignore[arg-type]


def test_fold_ignores_case_accents_and_spacing():
    assert fold("  Åsa   ÖBERG ") == "asa oberg"
    assert fold("Ääkkönen") == fold("aakkonen")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Åsa Öberg kertoi.", "[name] kertoi."),
        ("ÅSA ÖBERG and åsa öberg", "[name] and [name]"),  # a full name in any case
        (
            "Öbergin yritys, Öbergille kiitos, Öbergiltäkin.",
            "[name] yritys, [name] kiitos, [name].",
        ),
        ("Åsas idé", "[name] idé"),  # the Swedish genitive
        ("Matti Virtasen ja Virtaselle, Virtanen.", "[name] ja [name], [name]."),
        ("Ääkkösen idea", "[name] idea"),
        ("Paja Oy:n tilat; Pajan väki", "[company]:n tilat; [company] väki"),
        ("Kahvila Aurinko esitteli", "[company] esitteli"),  # without the legal form
        ("Bo Li came; Bo said", "[name] came; Bo said"),  # two letters: only within a name
    ],
)
def test_names_are_masked_whole_inflected_and_longest_first(text, masked):
    assert mask(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "paja oli siisti ja onni suosi",  # common words in lower case
        "Pajatso ja Onnikka",  # a name is a whole word (with an ending), not a prefix
        "Öbergström ei ole jäsen",
    ],
)
def test_words_that_only_look_like_names_are_kept(text):
    assert mask(text) == text


def test_what_was_masked_is_listed_for_the_author():
    found = NameMask(NAMES).apply("Åsa Öberg ja Öbergin Paja Oy; Onni.")
    assert found.text == "[name] ja [name] [company]; [name]."
    assert found.masked == (
        MaskedName("company", "Paja Oy", 1),
        MaskedName("person", "Onni Ääkkönen", 1),
        MaskedName("person", "Åsa Öberg", 2),
    )


def test_an_erased_persons_name_is_masked_from_digests_alone():
    salt = region_salt("oulu")
    kept = erased_digests("Liisa Mäkelä", salt)
    assert all("liisa" not in d and "makela" not in d for d in kept)  # no name kept
    found = NameMask(NAMES, erased=kept, salt=salt).apply(
        "Liisa Mäkelälle kiitos; Liisan idea; liisa (lower case) stays."
    )
    assert found.text == "[name] kiitos; [name] idea; liisa (lower case) stays."
    assert found.masked == (MaskedName("person", None, 3),)
    other_region = NameMask(NAMES, erased=kept, salt=region_salt("kainuu"))
    assert other_region.apply("Liisa").text == "Liisa"  # digests differ by region


def test_stems_undo_endings():
    assert {"oberg", "virtanen"} <= stems("Öbergille") | stems("Virtaselle")


def test_a_long_memo_is_masked_against_a_whole_regions_names():
    names = [KnownName(f"Etunimi{i} Sukunimi{i}", "person") for i in range(1000)]
    names += [KnownName(f"Yritys{i} Oy", "company") for i in range(300)]
    memo = "Etunimi5 Sukunimi5 kertoi Yritys7 Oy:n kasvusta ja Åsa Öberg vastasi. " * 200
    found = NameMask(names + NAMES).apply(memo)
    assert found.text.count("[name]") == 400
    assert found.text.count("[company]") == 200


# -- TOL 2008 -------------------------------------------------------------------------


def test_the_classification_has_the_four_levels_of_nace_rev_2():
    levels = [item.level for item in classification().values()]
    assert [levels.count(level) for level in (1, 2, 3, 4)] == [21, 88, 272, 615]
    software = lookup("6201")
    assert software is not None
    assert (software.name("fi"), software.name("sv")) == (
        "Ohjelmistojen suunnittelu ja valmistus",
        "Dataprogrammering",
    )
    sub_class = lookup("62010")
    assert sub_class is not None
    assert (sub_class.level, sub_class.name("en")) == (5, "Computer programming activities")
    assert lookup("6299") is None


def test_industry_codes_are_found_by_code_or_name():
    assert [i.code for i in search("6201", "fi")] == ["6201"]
    assert "5610" in [i.code for i in search("ravintola", "fi")]
    assert "5610" in [i.code for i in search("restaurang", "sv")]
    assert search("  ", "fi") == []
    assert check_industry_code("56.101") == "56101"


# -- warnings and dates -----------------------------------------------------------------


def test_field_problems_check_only_what_is_given():
    assert field_problems() == []
    assert [p.field for p in field_problems(business_id="0112038-8", company_name="")] == [
        "company_name",
        "business_id",
    ]
    assert [p.code for p in field_problems(figures=(-1, 10, None))] == ["NEGATIVE_FIGURE"]


def test_duplicate_warnings_same_business_id_or_same_name_without_one():
    group = Group.found(name="Oulu", municipality="", founded_on=date(2016, 1, 1))[0]
    paja = Enterprise("Paja Oy", 2, 100, business_id="0112038-9")
    with_id, _ = group.admit(paja, joined_on=date(2016, 2, 1), today=TODAY)
    nameless, _ = group.admit(
        Enterprise("PAJA  oy", 2, 100), joined_on=date(2016, 2, 1), today=TODAY
    )
    other_id, _ = group.admit(
        Enterprise("Paja Oy", 2, 100, business_id="1000000-4"), joined_on=date(2016, 2, 1),
        today=TODAY,
    )  # fmt: skip
    namesakes = [(with_id, "Oulu"), (nameless, "Oulu"), (other_id, "Kemi")]
    warned = duplicate_warnings("Paja Oy", "0112038-9", namesakes)
    assert [type(w) for w in warned] == [DuplicateBusinessId, DuplicateCompanyName]
    assert warned[0].params["member_id"] == with_id.id
    assert warned[0].render("fi").startswith("Ryhmän Oulu jäsenellä Paja Oy on sama Y-tunnus")
    no_id = duplicate_warnings("paja oy", None, namesakes)
    assert [w.params["member_id"] for w in no_id] == [with_id.id, nameless.id, other_id.id]
    assert duplicate_warnings("Verstas", None, namesakes) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m, d: m.pause(paused_on=d, today=TODAY), "paused_on"),
        (lambda m, d: m.leave(left_on=d, today=TODAY), "left_on"),
    ],
)
def test_membership_changes_in_the_future_are_refused(change, field):
    group = Group.found(name="Oulu", municipality="", founded_on=date(2016, 1, 1))[0]
    member, _ = group.admit(Enterprise("Paja Oy", 2, 100), joined_on=date(2016, 2, 1), today=TODAY)
    with pytest.raises(DateInFuture) as caught:
        change(member, TODAY + timedelta(days=1))
    assert (caught.value.field, caught.value.params["today"]) == (field, TODAY)
    assert member.version == 1
    change(member, TODAY)  # today is fine
    with pytest.raises(DateInFuture) as caught:
        member.rejoin(rejoined_on=TODAY + timedelta(days=1), today=TODAY)
    assert caught.value.field == "rejoined_on"
    member.rejoin(rejoined_on=TODAY, today=TODAY)
    assert member.status == "active"


def test_names_with_initials_hyphens_and_a_leading_legal_form():
    mask = NameMask(
        [
            KnownName("J. P. Salo", "person"),
            KnownName("Anna-Liisa Berg", "person"),
            KnownName("Tmi Kukka-Maaria", "company"),
        ]
    )
    assert mask.apply("J. P. Salo ja Anna-Liisan idea").text == "[name] ja [name] idea"
    assert mask.apply("Tmi Kukka-Maarian ja Kukka-Maarian kukat").text == (
        "[company] ja [company] kukat"
    )


def test_names_sort_as_a_finnish_index_does():
    """Case ignored, Å, Ä, Ö after Z in that order, ü as y, other accents ignored; ASCII
    names (most of a region's) keep their letters as they are."""
    names = ["Öljy Oy", "zeta oy", "Äijä Ky", "Åke Tmi", "Über Oy", "Émile Ab", "Aalto Oy"]
    assert sorted(names, key=collation_key) == [
        "Aalto Oy",
        "Émile Ab",
        "Über Oy",
        "zeta oy",
        "Åke Tmi",
        "Äijä Ky",
        "Öljy Oy",
    ]
    assert collation_key("  Paja   OY ") == "paja oy"
    assert collation_key("e\u0301cole") == collation_key("école") == "ecole"
    assert collation_key("Øre Æble") == collation_key("Öre Äble")  # Danish, Norwegian
