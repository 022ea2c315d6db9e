"""Autograding a class: sandboxed, parallel (or on Dask), into one nbgrader gradebook."""
