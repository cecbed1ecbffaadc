# A package, so that tests/ops/conftest.py does not take the module name "conftest"
# away from tests/conftest.py.
