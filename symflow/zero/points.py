"""Test points for the numeric zero test: random, spread over the whole domain, distinct.

A numeric test that samples a fixed grid can be fooled by any residual that is
zero on that grid (``Mod(x + 200, 400) - x - 200`` vanishes on [-200, 200)).
So the points are drawn afresh on every call (operating-system randomness, as
the identity test does: a residual cannot be built to vanish at points nobody
has chosen yet) and spread over the whole support:

* the real line: a few points near 0, log-spaced magnitudes 1e-4 ... 1e6 of
  both signs, and one far point (1e6 ... 1e12);
* a half-line: log-spaced offsets from the edge (1e-8 ... 1e12);
* a finite interval: uniform inside, plus log-spaced distances 1e-10 ... 1e-2
  from each edge;
* integers: the small ones, and log-spaced ones up to 1e6.

Edges that are symbolic constants (pi, 2 pi, sqrt 2, log 2) are numbers here
(``symflow.core.domain.edge_number``).  The landmarks of the residual (kinks,
jumps, peaks; ``landmarks.py``) in every variable *and every parameter* are
added with points just on each side (the integers around them for an
integer-valued symbol).  Only points inside the support, the parameters'
intervals and the constraints are kept, and only distinct points count.
A support cut out of its box by a region (the simplex x_1 + x_2 < 1 inside
[0, 1]^2: ``Domain.regions``) is honoured by drawing each random point again,
up to ``REGION_TRIES`` times, until it lies inside; landmarks outside it are dropped.

Over 400 lines on purpose: one concept, where the numeric test evaluates (random, far, log-spaced,
lattice and landmark points, all filtered by the same support, constraints and distinctness).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator

import mpmath
import sympy as sp

from ..core.domain import EDGE_DPS, Domain, Interval1D, edge_number, exact_number, regions_hold

__all__ = ["distinct", "exact_point", "inside", "iter_points", "sample_points", "variable_candidates"]

# Landmark finder (``landmarks.LandmarkFinder``): (symbol, its interval, numeric values of every other
# symbol, parameter=bool) -> candidate values of the symbol.
Landmarks = Callable[..., list]


def _rng(seed: int | None) -> random.Random:
    return random.Random(int.from_bytes(os.urandom(16), "big") if seed is None else seed)


def _mpf(v: float | int) -> mpmath.mpf:
    with mpmath.workdps(EDGE_DPS):
        return mpmath.mpf(v)


def _log_uniform(rng: random.Random, lo_exp: float, hi_exp: float) -> mpmath.mpf:
    return _mpf(10 ** rng.uniform(lo_exp, hi_exp))


def _param_value(iv: Interval1D, rng: random.Random, wide: bool) -> sp.Expr:
    """A random parameter value inside its interval (exact, 8 significant digits)."""
    if iv.finite_set is not None:
        return rng.choice(iv.finite_set)
    if iv.integer:
        # Integer intervals include their finite ends; stay on the allowed side of them.
        step = rng.randint(1, 40 if wide else 7)
        if iv.lo.is_finite and iv.lo.is_number:
            return sp.Integer(int(sp.ceiling(iv.lo)) + step)
        if iv.hi.is_finite and iv.hi.is_number:
            return sp.Integer(int(sp.floor(iv.hi)) - step)
        return sp.Integer(rng.choice((-1, 1)) * step)
    lo = None if not iv.lo.is_finite else iv.lo
    hi = None if not iv.hi.is_finite else iv.hi
    if lo is not None and hi is not None and lo.is_number and hi.is_number:
        return lo + (hi - lo) * _nice(rng.uniform(0.05, 0.95))
    spread = 2.0 if wide else 1.0
    if lo is not None and lo.is_number:
        return lo + _nice(10 ** rng.uniform(-spread, spread))
    if hi is not None and hi.is_number:
        return hi - _nice(10 ** rng.uniform(-spread, spread))
    magnitude = 10 ** rng.uniform(-spread, 0.5 * spread) if rng.random() < 0.5 else rng.uniform(0, 3)
    return _nice(rng.choice((-1, 1)) * magnitude)


def _nice(v: float) -> sp.Rational:
    """v rounded to 8 significant digits, as an exact rational (short to print in a witness)."""
    return sp.Rational(sp.Float(v, 8))


def variable_candidates(iv: Interval1D, pvals: dict, rng: random.Random) -> list:
    """Random candidate values for a variable with interval ``iv`` at parameter values ``pvals``."""
    if iv.finite_set is not None:
        vals = [v for v in iv.finite_set]
        chosen = vals if len(vals) <= 40 else rng.sample(vals, 40)
        return [_mpf_exact(v) for v in chosen]
    lo, hi = edge_number(iv.lo, pvals), edge_number(iv.hi, pvals)
    if iv.integer:
        return _integer_candidates(lo, hi, rng)
    with mpmath.workdps(EDGE_DPS):
        if lo is None and hi is None:
            out = [_mpf(rng.uniform(-3, 3)) for _ in range(3)]
            out += [rng.choice((-1, 1)) * _log_uniform(rng, -4, 2) for _ in range(3)]
            out += [_log_uniform(rng, 1.3, 6), -_log_uniform(rng, 1.3, 6)]  # both tails, always
            out += [rng.choice((-1, 1)) * _log_uniform(rng, 2, 6) for _ in range(2)]
            out.append(rng.choice((-1, 1)) * _log_uniform(rng, 6, 12))
            return out
        if lo is None or hi is None:
            edge, sign = (lo, 1) if hi is None else (hi, -1)
            offs = [_log_uniform(rng, -8, -2) for _ in range(2)]
            offs += [_log_uniform(rng, -2, 1) for _ in range(4)]
            offs += [_log_uniform(rng, 1, 3) for _ in range(2)]
            offs += [_log_uniform(rng, 3, 6), _log_uniform(rng, 6, 12)]
            return [edge + sign * o for o in offs]
        width = hi - lo
        fracs = [_mpf(rng.uniform(0, 1)) for _ in range(6)]
        near = [_log_uniform(rng, -10, -2) for _ in range(2)]
        fracs += near + [1 - f for f in (_log_uniform(rng, -10, -2) for _ in range(2))]
        return [lo + width * f for f in fracs]


def _mpf_exact(v: sp.Expr) -> mpmath.mpf:
    with mpmath.workdps(EDGE_DPS):
        return mpmath.mpf(sp.N(v, EDGE_DPS))


def _integer_candidates(lo, hi, rng: random.Random) -> list:
    if lo is not None and hi is not None:
        a, b = int(mpmath.ceil(lo)), int(mpmath.floor(hi))
        if b - a <= 40:
            return [_mpf(k) for k in range(a, b + 1)]
        return [_mpf(k) for k in sorted({a, a + 1, b, *(rng.randint(a, b) for _ in range(20))})]
    if lo is None and hi is None:
        small = list(range(-5, 6))
        far = [rng.choice((-1, 1)) * int(10 ** rng.uniform(1, 6)) for _ in range(6)]
        return [_mpf(k) for k in sorted(set(small + far))]
    start, sign = (int(mpmath.ceil(lo)), 1) if hi is None else (int(mpmath.floor(hi)), -1)
    offs = set(range(12)) | {int(10 ** rng.uniform(1, 6)) for _ in range(6)}
    return [_mpf(start + sign * k) for k in sorted(offs)]


def inside(value: mpmath.mpf, iv: Interval1D, pvals: dict) -> bool:
    """Whether a candidate lies in the support: a member of a finite set, an
    integer of an integer interval (ends included), else strictly inside."""
    if iv.finite_set is not None:
        return any(value == _mpf_exact(v) for v in iv.finite_set)
    if not mpmath.isfinite(value):
        return False
    lo, hi = edge_number(iv.lo, pvals), edge_number(iv.hi, pvals)
    if iv.integer:
        # kink candidates such as 0.3 or 1e-8 are not points of an integer support
        return value == mpmath.floor(value) and (lo is None or value >= lo) and (hi is None or value <= hi)
    return (lo is None or value > lo) and (hi is None or value < hi)


def _constraints_hold(constraints: tuple, values: dict) -> bool:
    for c in constraints:
        try:
            if not bool(c.xreplace(values)):
                return False
        except TypeError:
            return False
    return True


def _bounds_need(s: sp.Symbol, variables: list) -> bool:
    return any(s in (iv.lo.free_symbols | iv.hi.free_symbols) for _, iv in variables)


def _key(point: dict) -> tuple:
    return tuple(sorted((str(k), mpmath.nstr(v, 40)) for k, v in point.items()))


def distinct(points: list[dict]) -> list[dict]:
    """The points with repeats removed (a point tried twice is one point)."""
    seen, out = set(), []
    for pt in points:
        k = _key(pt)
        if k not in seen:
            seen.add(k)
            out.append(pt)
    return out


def sample_points(
    domain: Domain,
    symbols: set,
    *,
    draws: int = 4,
    per_draw: int = 12,
    seed: int | None = None,
    landmarks: Landmarks | None = None,
) -> list[dict]:
    """Distinct points (Symbol -> mpf) spread over ``domain`` for the given free symbols.

    ``seed`` None (the default) draws from the operating system; ``landmarks``
    adds the points where the residual kinks, jumps or peaks.
    """
    return list(iter_points(domain, symbols, draws=draws, per_draw=per_draw, seed=seed, landmarks=landmarks))


def iter_points(
    domain: Domain,
    symbols: set,
    *,
    draws: int = 4,
    per_draw: int = 12,
    seed: int | None = None,
    landmarks: Landmarks | None = None,
    random_points: bool = True,
) -> Iterator[dict]:
    """``sample_points`` lazily: the random points of every draw first, then the landmarks of each draw.

    A residual that is clearly nonzero somewhere is usually refuted by a random
    point, before any landmark (which costs root-finding) is located.
    ``random_points=False``: the landmark points only (the draws still fix
    where each landmark is looked for).
    """
    rng = _rng(seed)
    domain = domain.extended(set(symbols))
    variables = [(s, iv) for s, iv in domain.variables if s in symbols]
    # Parameters in the edges of every support are drawn too, even for a variable the residual no
    # longer holds: test points must lie where the support is non-empty (lower edge < upper edge).
    # So are parameters in the constraints: a constraint on theta cannot be tested at a point without
    # theta (decide_zero(1) under theta > -1 found "0 of 0 points" and could not refute).
    constrained = set().union(*(c.free_symbols for c in domain.constraints)) if domain.constraints else set()
    params = [
        (s, iv) for s, iv in domain.parameters if s in symbols or s in constrained or _bounds_need(s, domain.variables)
    ]
    if landmarks is None and domain.kinks:
        from .landmarks import LandmarkFinder

        landmarks = LandmarkFinder(sp.S.Zero, sorted(symbols, key=str), tuple(domain.kinks))
    seen: set = set()

    def fresh(pt: dict) -> bool:
        k = _key(pt)
        if k in seen:
            return False
        seen.add(k)
        return True

    contexts = []
    # Without variables each draw gives one point: draw more parameter values, so a
    # residual in the parameters alone can reach the 16 points 'consistent' needs.
    for k in range(draws if variables or not params else draws * per_draw):
        pvals = _draw_parameters(domain, params, rng, wide=k % 3 == 2)
        if pvals is None:
            continue
        base = {s: _mpf_exact(v) for s, v in pvals.items()}
        if not variables:
            if random_points and fresh(base):
                yield base
            if k < draws:
                contexts.append((pvals, base))
            continue
        cands = _variable_candidates(variables, pvals, rng)
        if cands is None:
            # The support is empty at these parameters (e.g. [a, b] with a > b): a point
            # outside it could "refute" an identity that holds wherever p lives.
            continue
        contexts.append((pvals, {**base, **{s: rng.choice(cs) for s, cs in cands.items()}}))
        if len(variables) == 1:
            s = variables[0][0]
            chosen = cands[s] if len(cands[s]) <= per_draw else rng.sample(cands[s], per_draw)
            for c in chosen:
                pt = {**base, s: c}
                if random_points and regions_hold(domain.regions, pt) and fresh(pt):
                    yield pt
            continue
        for j in range(per_draw):
            for attempt in range(REGION_TRIES):
                pt = dict(base)
                for s, _ in variables:
                    pt[s] = cands[s][j % len(cands[s])] if j < 2 and attempt == 0 else rng.choice(cands[s])
                if regions_hold(domain.regions, pt):
                    break
            else:
                continue  # no point of the region from these candidates
            if random_points and fresh(pt):
                yield pt
    if landmarks is None:
        return
    for pvals, fixed in contexts:
        for s, iv in variables:  # each landmark with the other coordinates where it was found
            others = {t: v for t, v in fixed.items() if t != s}
            for c in _on_lattice(landmarks(s, iv, others), iv):
                if inside(c, iv, pvals):
                    pt = {**fixed, s: c}
                    if regions_hold(domain.regions, pt) and fresh(pt):
                        yield pt
    # Landmarks found one coordinate at a time miss a bump or a disk in d >= 2: at a random x_2 the search
    # along x_1 sees nothing of exp(-10^4 |x - c|^2) or H(r^2 - |x - c|^2).  So, chained: move x_1 to each
    # of its first stationary points (the centre: found at any x_2), then search x_2 there, move it to its
    # first stationary point, and so on; every landmark on the way is a point.
    # (Over the variables; a residual in parameters only, decide_zero's usual case, chains its parameters.)
    if len(variables) >= 2:
        for pvals, fixed in contexts[:CHAIN_CONTEXTS]:

            def valid(cand: dict, pvals: dict = pvals) -> bool:
                return regions_hold(domain.regions, cand)

            yield from _chained(landmarks, variables, fixed, pvals, valid, fresh, parameter=False)
    elif not variables:
        chain = [(s, iv) for s, iv in params if s in symbols]
        if len(chain) >= 2:
            for pvals, fixed in contexts[:CHAIN_CONTEXTS]:

                def valid(cand: dict) -> bool:
                    return _constraints_hold(domain.constraints, cand) and domain.supports_nonempty(cand)

                yield from _chained(landmarks, chain, fixed, pvals, valid, fresh, parameter=True)
    # Landmarks of the parameters: a residual wrong only for mu > 1000 (Heaviside(mu - 1000),
    # Max(0, mu - 1000)) or only near mu = 3 (exp(-10^6 (mu - 3)^2)) vanishes at every random
    # draw.  Each kink or peak in a parameter, with the other symbols where it was found, gives
    # points on each side of it inside the parameter's interval and the constraints, and a
    # few variable values inside the support there (for the first PARAM_LANDMARK_CONTEXTS draws:
    # a residual with many parameters must not spend its whole budget here).
    for pvals, fixed in contexts[:PARAM_LANDMARK_CONTEXTS]:
        for s, iv in params:
            if s not in symbols:
                continue
            others = {t: v for t, v in fixed.items() if t != s}
            for c in _on_lattice(landmarks(s, iv, others, parameter=True), iv):
                if not inside(c, iv, pvals):
                    continue
                moved = _around_landmark(domain, params, pvals, s, exact_number(c), rng)
                if moved is None:
                    continue
                base = {**{t: v for t, v in fixed.items() if t not in dict(variables)}, **moved, s: c}
                for pt in _with_variables(variables, moved, base, fixed, rng):
                    if regions_hold(domain.regions, pt) and fresh(pt):
                        yield pt


def _chained(landmarks, chain: list, fixed: dict, pvals: dict, valid, fresh, *, parameter: bool):
    """Points along a chain of landmark searches (see ``iter_points``): symbol 1 at each of its first
    stationary points, then each next symbol searched there and moved to its first stationary point."""
    s0, iv0 = chain[0]
    landmarks(s0, iv0, {t: v for t, v in fixed.items() if t != s0}, parameter=parameter)
    found = [*getattr(landmarks, "last_peaks", ()), *getattr(landmarks, "last_kinks", ())]
    starts = [c for c in found if inside(c, iv0, pvals)][:CHAIN_STARTS]
    for c0 in starts:
        pt = {**fixed, s0: c0}
        for s, iv in chain[1:]:
            others = {t: v for t, v in pt.items() if t != s}
            for c in _on_lattice(landmarks(s, iv, others, parameter=parameter), iv):
                cand = {**pt, s: c}
                if inside(c, iv, pvals) and valid(cand) and fresh(cand):
                    yield cand
            found = [*getattr(landmarks, "last_peaks", ()), *getattr(landmarks, "last_kinks", ())]
            peaks = [c for c in found if inside(c, iv, pvals)]
            if peaks:
                pt[s] = peaks[0]


# Chained landmarks (d >= 2): at this many draws, from each of the first CHAIN_STARTS stationary points of
# the first variable.
CHAIN_CONTEXTS = 2
CHAIN_STARTS = 4

# Random draws of a point's variables until it lies inside the domain's regions (a simplex inside
# its box holds 1/(d - 1)! of the box: half of the points at d = 3).
REGION_TRIES = 40

# Variable values tried at each parameter landmark: the draw's own (when still inside the
# support there) and this many random ones; parameter landmarks are looked for at this many draws.
PARAM_LANDMARK_DRAWS = 3
PARAM_LANDMARK_CONTEXTS = 2


def _around_landmark(domain: Domain, params: list, pvals: dict, s: sp.Symbol, c: sp.Expr, rng: random.Random):
    """The draw's parameters with ``s`` moved to the landmark ``c``; when that breaks a constraint or
    empties a support (a kink at a = 3 under a < b, drawn with b = 2), the other parameters are drawn
    again (up to ``REGION_TRIES`` times) with ``s = c`` kept.  None when no such point was found."""
    moved = {**pvals, s: c}
    for attempt in range(REGION_TRIES + 1):
        if attempt:
            moved = {**{t: _param_value(iv, rng, wide=False) for t, iv in params if t != s}, s: c}
        if _constraints_hold(domain.constraints, moved) and domain.supports_nonempty(moved):
            return moved
    return None


def _with_variables(variables: list, pvals: dict, base: dict, fixed: dict, rng: random.Random) -> list[dict]:
    """Points with the parameters ``base`` and variables inside the support at ``pvals``."""
    if not variables:
        return [base]
    cands = _variable_candidates(variables, pvals, rng)
    if cands is None:
        return []
    out = []
    if all(inside(fixed[s], iv, pvals) for s, iv in variables):
        out.append({**base, **{s: fixed[s] for s, _ in variables}})
    for _ in range(PARAM_LANDMARK_DRAWS):
        out.append({**base, **{s: rng.choice(cs) for s, cs in cands.items()}})
    return out


def _draw_parameters(domain: Domain, params: list, rng: random.Random, wide: bool) -> dict | None:
    """Random parameter values inside their intervals that satisfy the constraints and leave every
    support non-empty (None after 100 tries)."""
    for _ in range(100):
        pvals = {s: _param_value(iv, rng, wide=wide) for s, iv in params}
        if _constraints_hold(domain.constraints, pvals) and domain.supports_nonempty(pvals):
            return pvals
    return None


def _variable_candidates(variables: list, pvals: dict, rng: random.Random) -> dict | None:
    """Candidate values of each variable inside the support at ``pvals``; None where the support is empty."""
    try:
        cands = {s: [c for c in variable_candidates(iv, pvals, rng) if inside(c, iv, pvals)] for s, iv in variables}
    except ValueError:
        return None  # an edge that is not a real number at these parameters
    return cands if all(cands.values()) else None


def _on_lattice(values: list, iv: Interval1D) -> list:
    """Landmarks of an integer-valued symbol as the integers around them (12 -> 11, 12, 13).

    A kink source y - 12 of KroneckerDelta(y, 12) has its root at 12: points 1e-8
    away from it are not points of the support, and the residual differs from 0 at
    the integer itself.  Other symbols keep the values as found.
    """
    if not iv.integer:
        return values
    out, seen = [], set()
    for v in values:
        if not mpmath.isfinite(v):
            continue
        near = int(mpmath.nint(v))
        for k in sorted({int(mpmath.floor(v)), near, int(mpmath.ceil(v))} | {near - 1, near + 1}):
            if k not in seen:
                seen.add(k)
                out.append(_mpf(k))
    return out


def exact_point(point: dict) -> dict:
    """A point's coordinates as exact SymPy numbers (what a witness records and evalf re-evaluates)."""
    return {k: exact_number(v) for k, v in point.items()}
