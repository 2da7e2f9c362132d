"""Per-customer features: the activity state, the feature table, RFM scores."""
