"""Engine tests need no Django: run them with ``pytest -p no:django tests/methodologies``."""
