"""What every HTTP surface shares, below the app and the dialects: ASGI middleware and hot routes."""
