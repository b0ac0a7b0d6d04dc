"""Detection: ingestion, normalisation, Sigma evaluation and IOC extraction."""
