"""The domain core: entities, value objects, rules and the order state machine.

Nothing in this package performs I/O or imports a web or database framework.
"""
