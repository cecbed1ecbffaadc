"""Pure domain logic (no Flask, no SQLAlchemy): numbers, credit codes, the application's fields and its rules."""
