"""The rounds domain."""
