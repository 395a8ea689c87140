"""Agreement between coders, per code and pooled, from well-kept libraries: Cohen's kappa
with its 95 % confidence interval (statsmodels) for two coders, Krippendorff's alpha
(krippendorff, nominal, missing values allowed) for two or more.

The unit is a meeting coded by at least two of the coders compared; for one code, each
coder's value of a unit is 1 (applied the code), 0 (coded the meeting, incl. "nothing
found", without the code) or missing (did not code the meeting). Pooled: every
(meeting, code) pair is a unit. A figure that is undefined (one value throughout: no
variation to agree on) is ``None``, never a made-up 1 or 0. The kappa interval is
statsmodels' asymptotic one (``kappa ± 1.96·SE``), clipped to [-1, 1].
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# a coder's coding of a meeting: the codes applied (empty: coded, nothing found)
Codings = Mapping[str, Mapping[str, frozenset[str]]]  # meeting -> coder -> codes


@dataclass(frozen=True)
class Kappa:
    value: float
    low: float  # 95 % confidence interval
    high: float


@dataclass(frozen=True)
class Figures:
    code: str | None  # None: pooled over the codes
    units: int  # meetings (pooled: meeting-code pairs) coded by at least two coders
    both: int  # two coders: units where both applied the code
    first_only: int
    second_only: int
    neither: int
    kappa: Kappa | None  # two coders only
    alpha: float | None


@dataclass(frozen=True)
class Agreement:
    coders: tuple[str, ...]
    meetings: int
    per_code: tuple[Figures, ...]
    pooled: Figures


@dataclass
class Counts:
    """What the figures need, as counts (from codings here, or from the workspace's facts:
    :mod:`services.gateway.research.counts`): per number of coders ``m`` the units coded by
    ``m`` of them (m >= 2); per code and (m, k) the units where k of the m applied the code
    (k >= 1); with two coders, per code the units where the first / the second applied it."""

    coders: tuple[str, ...]
    units: Counter[int] = field(default_factory=Counter)
    applied: dict[str, Counter[tuple[int, int]]] = field(default_factory=dict)
    first: Counter[str] = field(default_factory=Counter)
    second: Counter[str] = field(default_factory=Counter)


def agreement(
    codings: Codings, codes: Sequence[str], coders: Iterable[str] | None = None
) -> Agreement:
    """Agreement of ``coders`` (default: every coder found) over ``codings`` on ``codes``."""
    chosen = tuple(sorted(set(coders) if coders is not None else _all_coders(codings)))
    return from_counts(count(codings, chosen), codes)


def count(codings: Codings, coders: tuple[str, ...]) -> Counts:
    """The counts of ``codings`` for ``coders`` (sorted)."""
    found = Counts(coders)
    for by in codings.values():
        mine = [coder for coder in coders if coder in by]
        m = len(mine)
        if m < 2:
            continue
        found.units[m] += 1
        applied: Counter[str] = Counter(code for coder in mine for code in by[coder])
        for code, k in applied.items():
            found.applied.setdefault(code, Counter())[(m, k)] += 1
            if len(coders) == 2:
                found.first[code] += code in by[coders[0]]
                found.second[code] += code in by[coders[1]]
    return found


def from_counts(counts: Counts, codes: Sequence[str]) -> Agreement:
    per_code = tuple(_figures(code, [code], counts) for code in codes)
    return Agreement(
        coders=counts.coders,
        meetings=sum(counts.units.values()),
        per_code=per_code,
        pooled=_figures(None, codes, counts),
    )


def _all_coders(codings: Codings) -> set[str]:
    return {coder for by in codings.values() for coder in by}


def _figures(code: str | None, codes: Sequence[str], counts: Counts) -> Figures:
    both = first_only = second_only = neither = 0
    rows: list[tuple[int, int, int]] = []  # (coders saying 0, coders saying 1, units)
    for c in codes:
        applied = counts.applied.get(c, Counter())
        for m, units in counts.units.items():
            rest = units - sum(n for (mm, _k), n in applied.items() if mm == m)
            rows.append((m, 0, rest))
        rows += [(m - k, k, n) for (m, k), n in applied.items()]
        if len(counts.coders) == 2:  # every unit has both values (a unit needs two coders)
            agreed = applied.get((2, 2), 0)
            both += agreed
            first_only += counts.first[c] - agreed
            second_only += counts.second[c] - agreed
    units = sum(counts.units.values()) * len(codes)
    if len(counts.coders) == 2:
        neither = units - both - first_only - second_only
    return Figures(
        code=code,
        units=units,
        both=both,
        first_only=first_only,
        second_only=second_only,
        neither=neither,
        kappa=_kappa(both, first_only, second_only, neither) if len(counts.coders) == 2 else None,
        alpha=_alpha(rows),
    )


def cohen_kappa(both: int, first_only: int, second_only: int, neither: int) -> float | None:
    """Cohen's kappa of a 2x2 table (statsmodels); None where it is undefined."""
    result = _statsmodels_kappa(both, first_only, second_only, neither)
    if result is None or not math.isfinite(float(result.kappa)):
        return None
    return float(result.kappa)


def _statsmodels_kappa(both: int, first_only: int, second_only: int, neither: int) -> Any:
    import numpy as np  # imported when used: the rest of the gateway runs without them
    from statsmodels.stats.inter_rater import cohens_kappa

    table = np.array([[both, first_only], [second_only, neither]], dtype=float)
    if table.sum() == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # undefined: chance agreement is 1
        return cohens_kappa(table, return_results=True)


def _kappa(both: int, first_only: int, second_only: int, neither: int) -> Kappa | None:
    result = _statsmodels_kappa(both, first_only, second_only, neither)
    if result is None:
        return None
    value, low, high = float(result.kappa), float(result.kappa_low), float(result.kappa_upp)
    if not all(math.isfinite(x) for x in (value, low, high)):
        return None
    return Kappa(value=value, low=max(-1.0, low), high=min(1.0, high))


def _alpha(rows: list[tuple[int, int, int]]) -> float | None:
    """Krippendorff's alpha, nominal, from units given as (coders saying 0, coders saying
    1, how many such units): the library's ``value_counts`` form, a row per unit."""
    if not any(n for _z, _o, n in rows):
        return None
    import krippendorff
    import numpy as np

    kinds = [r for r in rows if r[2] > 0]
    counts = np.repeat(
        np.array([[z, o] for z, o, _n in kinds], dtype=float), [n for *_v, n in kinds], axis=0
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value = float(
                krippendorff.alpha(
                    value_counts=counts, level_of_measurement="nominal", value_domain=[0.0, 1.0]
                )
            )
    except ValueError:  # no unit with two values
        return None
    return value if math.isfinite(value) else None
