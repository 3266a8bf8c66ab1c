"""Tests of the tdx workers: python3 -m unittest discover -s workers -p 'test_*.py' (from the repository root)."""
import os
import sys

_WORKERS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _sub in ("common", "numpy_reference", "nnsight"):
    _p = os.path.join(_WORKERS, _sub)
    if _p not in sys.path:
        sys.path.insert(0, _p)
