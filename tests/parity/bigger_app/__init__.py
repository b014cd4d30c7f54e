"""FastAPI tutorial, "Bigger Applications - Multiple Files", laid out as in the docs: ``app/``."""
