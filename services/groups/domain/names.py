"""Names in free text: folding for search, and masking the region's names in a memo.

:func:`fold` makes names comparable as a person types them: ``Åsa  ÖBERG`` and ``asa oberg``
are the same (case, accents and spacing ignored).

:class:`NameMask` replaces every name of the region's persons and member companies found in
a text with a neutral marker (``[name]``, ``[company]``), for the copy of a memo that leaves
the region. What counts as found, word by word:

- a full name of two words or more (``Åsa Öberg``, ``Paja Oy``) in any case, its last word
  possibly inflected: Finnish case endings and clitics, with the ``i`` a consonant-final
  name takes (``Öbergille``, ``Öbergiltäkin``), ``-nen`` names as ``Virtasen``,
  ``Virtaselle``, the Swedish genitive (``Åsas``);
- one word of a person's name, a company's name without its legal form (``Paja``), or a
  one-word name, of three letters or more and likewise inflected, but only when written with
  a capital: names are capitalised in Finnish and Swedish, while ``onni`` (luck) or ``paja``
  (workshop) in lower case are words;
- the longest name first, so ``Åsa Öberg`` is one ``[name]``, not two.

Erased persons' names are not stored any more; what remains of each is a :func:`digest` per
name word, so a word of an erased name written with a capital (inflected or not) is still
masked while the name itself is kept nowhere.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

NameKind = Literal["person", "company"]
MARKERS: Final[dict[NameKind, str]] = {"person": "[name]", "company": "[company]"}
PART_MIN = 3  # shorter words (Bo, Li) are masked only within a full name
LEGAL_FORMS: Final = frozenset(
    {"oy", "oyj", "ab", "abp", "ky", "kb", "ay", "tmi", "osk", "ry", "ltd", "as"}
)
# Finnish case endings (folded: ä -> a, ö -> o), the optional linking i, clitics
_CASE = r"n|a|ta|na|ksi|ssa|sta|lla|lta|lle|an|en|in|on|un|yn|hin|seen|ineen|tta|s"
_CLITIC = r"kin|kaan|han|pa|ko"
_ENDING = re.compile(rf"(?:i?(?:{_CASE}))?(?:{_CLITIC})?")
_NEN_ENDING = re.compile(rf"s(?:en|ella|elle|elta|essa|esta|eksi|ena|ta|een)(?:{_CLITIC})?")
_WORD = re.compile(r"\w+(?:-\w+)*")


def fold(text: str) -> str:
    """Case, accents and spacing ignored: ``Åsa  ÖBERG`` -> ``asa oberg``."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


# after every z-word ("\x7f" is above every ASCII letter: "Zeta" before "Åke"), in this order
_LAST_LETTERS: Final = {
    "å": "z\x7f\x01",
    "ä": "z\x7f\x02",
    "æ": "z\x7f\x02",
    "ö": "z\x7f\x03",
    "ø": "z\x7f\x03",
}


def collation_key(text: str) -> str:
    """Sorts names as a Finnish or Swedish index does: case ignored, Å, Ä, Ö after Z (in
    that order), ü as y, other accents ignored (é as e)."""
    folded = unicodedata.normalize("NFC", text.casefold())
    if not folded.isascii():  # ASCII letters are their own keys: no per-letter work
        folded = "".join(map(_collation_letter, folded))
    return " ".join(folded.split())


@functools.lru_cache(maxsize=4096)
def _collation_letter(char: str) -> str:
    if char in _LAST_LETTERS:
        return _LAST_LETTERS[char]
    if char == "ü":
        return "y"
    base = unicodedata.normalize("NFKD", char)
    return "".join(c for c in base if not unicodedata.combining(c))


def region_salt(region: str) -> str:
    """The salt of a region's digests: the same name gives other digests in other regions."""
    return f"mgn-erased-names:{region}"


def digest(word: str, salt: str) -> str:
    """A one-way digest of a name word (folded) that recognises it without keeping it."""
    return hashlib.sha256(f"{salt}\x00{fold(word)}".encode()).hexdigest()


def erased_digests(name: str, salt: str) -> set[str]:
    """What is kept of an erased person's name: a digest per word of :data:`PART_MIN` up."""
    return {digest(word, salt) for word in _WORD.findall(name) if len(word) >= PART_MIN}


def stems(word: str) -> set[str]:
    """The folded ``word`` and the names it may be an inflected form of
    (``Öbergille`` -> ``obergille``, ``obergill``, ``oberg``, ...)."""
    folded = fold(word)
    found = {folded}
    for cut in range(PART_MIN, len(folded)):
        ending = folded[cut:]
        if _ENDING.fullmatch(ending):
            found.add(folded[:cut])
        if _NEN_ENDING.fullmatch(ending):
            found.add(folded[:cut] + "nen")
    return found


def _inflected(written: str, name: str) -> bool:
    """Is the folded text word ``written`` the folded name word ``name``, maybe inflected?"""
    if written == name:
        return True
    if written.startswith(name) and _ENDING.fullmatch(written[len(name) :]):
        return True
    stem = name[:-3]
    return (
        name.endswith("nen")
        and written.startswith(stem)
        and bool(_NEN_ENDING.fullmatch(written[len(stem) :]))
    )


@dataclass(frozen=True, slots=True)
class KnownName:
    text: str
    kind: NameKind


@dataclass(frozen=True, slots=True)
class MaskedName:
    """One name masked in a text; ``name`` is None for an erased person's."""

    kind: NameKind
    name: str | None
    occurrences: int


@dataclass(frozen=True, slots=True)
class MaskedText:
    text: str
    masked: tuple[MaskedName, ...]


@dataclass(frozen=True, slots=True)
class _Candidate:
    words: tuple[str, ...]  # folded
    name: KnownName


def _shortened(name: KnownName) -> list[tuple[str, ...]]:
    """Shorter forms a name is written in: a person's single words, a company's name
    without its legal form."""
    words = _WORD.findall(name.text)
    if name.kind == "person":
        return [(w,) for w in words if len(w) >= PART_MIN] if len(words) > 1 else []
    while words and words[-1].lower() in LEGAL_FORMS:
        words.pop()
    while words and words[0].lower() in LEGAL_FORMS:
        words.pop(0)
    if not words or len(words) == len(_WORD.findall(name.text)):
        return []
    return [tuple(words)] if len(words) > 1 or len(words[0]) >= PART_MIN else []


class NameMask:
    """The region's names (and erased persons' digests), ready to mask texts."""

    def __init__(
        self, names: Iterable[KnownName], *, erased: Iterable[str] = (), salt: str = ""
    ) -> None:
        self._multi: dict[str, list[_Candidate]] = {}  # first folded word -> candidates
        self._single: dict[str, _Candidate] = {}  # folded word -> candidate
        for name in sorted(set(names), key=lambda n: (n.kind, n.text)):
            forms = [tuple(_WORD.findall(name.text)), *_shortened(name)]
            for form in forms:
                if not form:
                    continue
                candidate = _Candidate(tuple(fold(w) for w in form), name)
                if len(form) > 1:
                    self._multi.setdefault(candidate.words[0], []).append(candidate)
                elif len(form[0]) >= PART_MIN:
                    self._single.setdefault(candidate.words[0], candidate)
        for candidates in self._multi.values():
            candidates.sort(key=lambda c: -len(c.words))
        self._erased = frozenset(erased)
        self._salt = salt

    def apply(self, text: str) -> MaskedText:
        words = list(_WORD.finditer(text))
        folded = [fold(w.group(0)) for w in words]
        counts: Counter[tuple[NameKind, str | None]] = Counter()
        out: list[str] = []
        written_to = 0
        i = 0
        while i < len(words):
            found = self._at(text, words, folded, i)
            if found is None:
                i += 1
                continue
            length, kind, name = found
            out.append(text[written_to : words[i].start()])
            out.append(MARKERS[kind])
            written_to = words[i + length - 1].end()
            counts[(kind, name)] += 1
            i += length
        out.append(text[written_to:])
        masked = re.sub(r"\[name\](?:\s+\[name\])+", "[name]", "".join(out))
        return MaskedText(
            masked,
            tuple(
                MaskedName(kind, name, n)
                for (kind, name), n in sorted(
                    counts.items(), key=lambda i: (i[0][0], i[0][1] or "")
                )
            ),
        )

    def _at(
        self, text: str, words: list[re.Match[str]], folded: list[str], i: int
    ) -> tuple[int, NameKind, str | None] | None:
        """The name starting at word ``i``: (words it covers, kind, name or None if erased)."""
        for candidate in self._multi.get(folded[i], ()):
            n = len(candidate.words)
            if i + n > len(words) or not _spaced(text, words[i : i + n]):
                continue
            *head, last = candidate.words
            if folded[i : i + n - 1] == head and _inflected(folded[i + n - 1], last):
                return n, candidate.name.kind, candidate.name.text
        written = words[i].group(0)
        if len(written) < PART_MIN or not written[0].isupper():
            return None
        word_stems = stems(written)
        for stem in sorted(word_stems, key=len, reverse=True):
            single = self._single.get(stem)
            if single is not None:
                return 1, single.name.kind, single.name.text
        if self._erased and any(digest(stem, self._salt) in self._erased for stem in word_stems):
            return 1, "person", None
        return None


def _spaced(text: str, words: list[re.Match[str]]) -> bool:
    """The words follow each other with only white space (or an initial's period) between."""
    gaps = (text[a.end() : b.start()] for a, b in itertools.pairwise(words))
    return all(not gap.strip(" \t\r\n.") for gap in gaps)
