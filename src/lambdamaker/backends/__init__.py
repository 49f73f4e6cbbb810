"""Backends: where execution environments run (DESIGN.md, decision 6).

``base.Backend`` is the interface; ``local.LocalBackend`` runs environments as processes on this
host, forked from zygotes and snapshots. A Ray backend (actors on a cluster) comes later and
implements the same interface.
"""
