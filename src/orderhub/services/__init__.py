"""Use cases. The only layer that opens a unit of work; called by dialects, the CLI and workers."""
