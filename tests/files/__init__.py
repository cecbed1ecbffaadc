# A package, so that tests/files/conftest.py does not take the module name "conftest"
# away from tests/conftest.py (which other test modules import from).
