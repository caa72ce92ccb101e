"""Classification: service-type rules and the risk lexicon (pure; no SQL, no I/O beyond reading rule files)."""
