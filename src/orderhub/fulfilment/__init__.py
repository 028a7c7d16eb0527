"""Fulfilment: the worker loop and one provisioner per kind of order."""
