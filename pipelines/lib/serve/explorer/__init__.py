"""The Identity Risks Explorer: one page (explorer.html) fed by fixed queries on the warehouse
(data.py), served by `ciem explorer` (server.py) or written as a static snapshot (page.py)."""
