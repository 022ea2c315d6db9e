"""Instructor tooling for the BETH workshop course (depends on nbgrader)."""
