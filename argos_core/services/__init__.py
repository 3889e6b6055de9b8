"""Use cases. Plain values in, dataclasses out, domain exceptions raised."""
