"""Payload builders for each result type, registered with :mod:`xattr_lab.viz.bundle`."""

from __future__ import annotations
