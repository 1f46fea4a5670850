"""The article layer: the Markdown format and its validation (articles), HTML (render), the
editor's form (editing), revision history (revisions), redirects, media and the importer.

Imports only the ground floor (config, errors, text, urls, fsutil) and kb.store."""
