"""Readers of other formats into mobcost specs; each imports its format's library lazily."""
