"""Persistence: tables, repositories, the unit of work and migrations (SQLite or PostgreSQL)."""
