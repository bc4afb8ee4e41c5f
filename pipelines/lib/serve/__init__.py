"""Serve: read the results for people: `ciem explain` (the policy evaluator over the warehouse)
and the Identity Risks Explorer (live server and static page). The top layer of `lib/`: may
import every layer."""
