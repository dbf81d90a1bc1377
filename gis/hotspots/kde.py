"""Gaussian kernel density of incidents at cell centres, for forecasts that weigh the
same incidents many ways (tuning tries several half-lives per bandwidth).

The kernel weights exp(−d²/2h²) from each distinct incident location to the cell centres
within 4h are computed batch by batch of locations and applied at once to every
weighting asked for (one column each), so memory stays flat however many incidents there
are, and the distances are computed once for all the weightings. Incidents often share a
location (an address, a generalised hundred block), so the work is per distinct location.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

REACH = 4.0  # bandwidths: beyond 4h a kernel weighs under 0.04 % of its peak
PAIRS_PER_BATCH = 2_000_000  # (cell, location) pairs held at once


def kernel_density(centres: np.ndarray, xy: np.ndarray, bandwidth_m: float,
                   weights: np.ndarray | None = None) -> np.ndarray:
    """Σ w·exp(−d²/2h²) over the incidents within 4h of each centre: one column per
    column of ``weights`` (n incidents × k; none: every incident weighs 1)."""
    columns = 1 if weights is None or weights.ndim == 1 else weights.shape[1]
    density = np.zeros((len(centres), columns))
    if len(xy) == 0 or len(centres) == 0:
        return density if weights is not None and weights.ndim == 2 else density[:, 0]
    locations, inverse = np.unique(np.asarray(xy, dtype=float), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    per_incident = np.ones((len(xy), 1)) if weights is None else \
        np.asarray(weights, dtype=float).reshape(len(xy), columns)
    per_location = np.column_stack([np.bincount(inverse, weights=per_incident[:, j],
                                                minlength=len(locations))
                                    for j in range(columns)])
    centre_tree = cKDTree(centres)
    reach = REACH * bandwidth_m
    batch = _batch_size(centre_tree, locations, reach)
    for first in range(0, len(locations), batch):
        chunk = locations[first:first + batch]
        pairs = centre_tree.sparse_distance_matrix(cKDTree(chunk), reach,
                                                   output_type="ndarray")
        kernel = sparse.csr_matrix(
            (np.exp(-pairs["v"] ** 2 / (2 * bandwidth_m ** 2)), (pairs["i"], pairs["j"])),
            shape=(len(centres), len(chunk)))
        density += kernel @ per_location[first:first + batch]
    return density if weights is not None and weights.ndim == 2 else density[:, 0]


def _batch_size(centre_tree: cKDTree, locations: np.ndarray, reach: float) -> int:
    """Locations per batch so that a batch holds about ``PAIRS_PER_BATCH`` pairs (the
    pairs per location estimated on a sample)."""
    sample = locations[np.linspace(0, len(locations) - 1, min(len(locations), 200),
                                   dtype=int)]
    per_location = max(1.0, float(np.mean([len(n) for n in centre_tree.query_ball_point(
        sample, reach)])))
    return max(1, int(PAIRS_PER_BATCH / per_location))
