"""Repository-root conftest: lets the docstring examples in beth_helpers/ use test fixtures.

pytest gives a conftest's fixtures only to tests in its own folder, so the doctests in
beth_helpers/ would not see tests/conftest.py. Loading it here as a plugin makes its
fixtures (``kaggle_folder``, and the ``doctest_namespace`` hook-up) available everywhere.
"""

pytest_plugins = ["tests.conftest"]
