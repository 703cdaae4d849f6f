"""Adapters to training libraries (each imports its library only when imported itself)."""
