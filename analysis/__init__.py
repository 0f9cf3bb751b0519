"""Projections, centroid distances, hypersphere membership, separability and plots (issue 5)."""
