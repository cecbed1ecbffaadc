"""A round's notice as a declared file (``notices/<year>.toml``, docs/notice-file.md): its schema,
its loader with the province's checks, and its canonical form. Pure: no Flask, no SQLAlchemy."""
