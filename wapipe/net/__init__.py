"""Outbound HTTP from inputs: the guard every URL built from input passes through."""
