import sys
from pathlib import Path

# `from view_fixtures import ...` in this folder's tests (and the browser tests reuse it the same way).
sys.path.insert(0, str(Path(__file__).parent))
