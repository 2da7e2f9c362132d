"""Per-customer predictions: purchase counts, survival and spend (BG/NBD, Gamma-Gamma)."""
