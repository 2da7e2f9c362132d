"""Input and output at the edges: sources, the Parquet lake, sinks, locks."""
