"""Baseline policies from the literature, implemented from their papers and public sources."""
