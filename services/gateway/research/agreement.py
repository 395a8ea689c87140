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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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


def agreement(
    codings: Codings, codes: Sequence[str], coders: Iterable[str] | None = None
) -> Agreement:
    """Agreement of ``coders`` (default: every coder found) over ``codings`` on ``codes``."""
    chosen = tuple(sorted(set(coders) if coders is not None else _all_coders(codings)))
    units = [
        (meeting, by)
        for meeting, by in sorted(codings.items())
        if sum(1 for coder in chosen if coder in by) >= 2
    ]
    per_code = tuple(_figures(code, [code], units, chosen) for code in codes)
    return Agreement(
        coders=chosen,
        meetings=len(units),
        per_code=per_code,
        pooled=_figures(None, codes, units, chosen),
    )


def _all_coders(codings: Codings) -> set[str]:
    return {coder for by in codings.values() for coder in by}


def _figures(
    code: str | None,
    codes: Sequence[str],
    units: Sequence[tuple[str, Mapping[str, frozenset[str]]]],
    coders: tuple[str, ...],
) -> Figures:
    matrix = [
        [float(c in by[coder]) if coder in by else math.nan for coder in coders]
        for _meeting, by in units
        for c in codes
    ]
    both = first_only = second_only = neither = 0
    if len(coders) == 2:  # every unit has both values (a unit needs two coders)
        for first, second in matrix:
            if first and second:
                both += 1
            elif first:
                first_only += 1
            elif second:
                second_only += 1
            else:
                neither += 1
    return Figures(
        code=code,
        units=len(matrix),
        both=both,
        first_only=first_only,
        second_only=second_only,
        neither=neither,
        kappa=_kappa(both, first_only, second_only, neither) if len(coders) == 2 else None,
        alpha=_alpha(matrix),
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


def _alpha(matrix: list[list[float]]) -> float | None:
    if not matrix:
        return None
    import krippendorff
    import numpy as np

    data = np.array(matrix, dtype=float).T  # coders x units
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value = float(
                krippendorff.alpha(
                    reliability_data=data, level_of_measurement="nominal", value_domain=[0.0, 1.0]
                )
            )
    except ValueError:  # no unit with two values
        return None
    return value if math.isfinite(value) else None
