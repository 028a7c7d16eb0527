"""Wire dialects: thin adapters that translate a partner API's format to and from the services."""
