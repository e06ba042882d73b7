"""Browser, HTML and link checks of the built site (see conftest.py)."""
