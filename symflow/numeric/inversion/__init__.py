r"""Sampling any 1-D density by numeric inversion of its CDF: x = F^{-1}(u), u ~ U(0, 1).

``inverse_cdf_sampler(pdf, lo, hi)`` turns a vectorized, possibly unnormalized
density on (lo, hi) into an ``InverseSampler``; build one per parameter value.
It works in three steps.

1. **Probe.** The pdf is evaluated on 5,000-11,000 points spanning the support
   (offsets 10^k, k in [-16, 12] in steps of 0.01, from 0 for an infinite support,
   from each finite edge, and again around the largest value found).  This
   finds a center, refuses negative values, treats nan beyond the outermost
   positive values as the overflow of a tail (the support is cut there), and
   seeds the mesh.
2. **Mass table** (``cdf_table``).  Each mesh cell's mass by Gauss-Legendre rules
   of orders 20 and 10 after the substitution x = a + (b - a)(3t^2 - 2t^3), which
   turns x^{-1/2} edge singularities into analytic integrands; cells are bisected
   until the two rules agree to 1e-15 of the total.  From each end of the mesh,
   geometric shells follow the mass: doubling their distance from the center
   towards an infinite end, halving their distance to a finite edge.  A shell
   sequence stops when the mass left, m r/(1 - r) with r the ratio of the last
   two shell masses, is below 1e-3 u_resolution; at a finite edge the mass left
   becomes a last cell in which F - F(edge) is a power law |x - edge|^gamma with
   gamma = -log2 r (exact for x^{a} edge behaviour, so Beta(1/2, 1/2) is
   resolved down to its edges without evaluating the pdf at them).
3. **Inverse.**  scipy's PINV (``NumericalInversePolynomial``, Derflinger,
   Hörmann & Leydold 2010) on the table's domain; when it refuses (poles at the
   edges, modes separated by a region of zero density) or misses the tolerance
   measured against the table, our own route (``method="table"``): monotone cubic
   Hermite interpolation of x(u) with the exact slopes dx/du = Z/p(x)
   (Fritsch-Carlson limited), each cell split at its midpoint in u until the
   u-error at t = 1/4, 1/2, 3/4 of the cell is below u_resolution/2, found at
   sampling time through a guide table.

   PINV calls the pdf one point at a time, 7,000-20,000 times a build: with a pdf
   costing 100 us a call (a lambdified Piecewise) its build took 2.6 s where the
   vectorized table route took 0.1 s.  The table route samples 1.5-2x slower than
   PINV (about 60-100 ms against 40-70 ms per 10^6 draws) and reaches about half
   its u-error; ``from_stats`` uses it.

The u-error max |F(ppf(u)) - u| is then measured against the mass table on
about 5000 values of u (the midpoints of the Hermite cells, a stratified
sample, and 10^-15 ... 10^-2 from both ends) and stored as ``u_error``.  Near a
singular edge one float64 step of x can hold more probability than the
tolerance (the last step below 1 holds 9.4e-9 of Beta(1/2, 1/2)); that part,
which no float64 sampler can avoid, is stored as ``u_floor`` and not counted
against the tolerance.

``inverse_pmf_sampler(pmf, lo, hi)`` is the discrete counterpart: cumulative
sums up to a tail mass below 1e-14, then ``searchsorted``.

Known limits: a feature narrower than the probe spacing (about 2.3 % of its
distance from the probe origin) where the pdf underflows to 0 at every probe
point can be missed (give ``center=``); an interior pole is resolved only to the
float64 spacing around it (|x - 0.37|^{-1/2}: u-error 3.4e-9); a tail heavier than
x^{-1-a} with a below about 0.045 cannot be truncated inside the float64 range and
is refused; a strong edge singularity puts more than u_resolution into the float64
steps next to the edge (Beta(0.1, 0.2): 2e-4 in the last step below 1), which is
reported as ``u_floor``.
"""

from .continuous import InverseSampler as InverseSampler
from .continuous import inverse_cdf_sampler as inverse_cdf_sampler
from .discrete import InversePmfSampler as InversePmfSampler
from .discrete import inverse_pmf_sampler as inverse_pmf_sampler
from .expr import InversionSampler as InversionSampler
from .table import CdfTable as CdfTable
from .table import cdf_table as cdf_table

__all__ = [
    "CdfTable",
    "InversePmfSampler",
    "InverseSampler",
    "InversionSampler",
    "cdf_table",
    "inverse_cdf_sampler",
    "inverse_pmf_sampler",
]
