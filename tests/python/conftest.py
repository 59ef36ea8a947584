"""What pytest itself reads for tests/python: only the import path. The shared helpers and the
table of sample inputs are in helpers.py (``from helpers import ...``), the reference network in
reference.py; the markers are declared in pyproject.toml.

pytest's default import mode already puts this folder on sys.path; saying so here keeps
``from helpers import ...`` working under ``--import-mode=importlib`` too, which does not.
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
