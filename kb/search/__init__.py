"""Search internals: keyword (Whoosh), vectors (faiss), embedders, fusion, ranking.

The public entry point is ``kb.KnowledgeBase``; these modules are its parts.
"""
