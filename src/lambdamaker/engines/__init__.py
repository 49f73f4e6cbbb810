"""Engines: the platform's machinery, usable in-process without the server (DESIGN.md, decision 3).

Engines know nothing of HTTP or botocore: providers translate API shapes into engine calls.
"""
