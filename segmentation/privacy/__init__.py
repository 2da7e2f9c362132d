"""Privacy by design: pseudonyms, small groups suppressed, erasure, retention."""
