"""The HTTP application: app factory, OAuth2 token endpoint, health, cross-cutting middleware."""
