"""Run first in every graded kernel: let numba reuse compiled code across submissions.

umap-learn and pynndescent compile many numba functions without ``cache=True``, so every
fresh kernel spends 10-15 s compiling the same code. Grading hundreds of notebooks, that
one-off work is repeated hundreds of times. Making numba's ``jit``/``njit`` default to
``cache=True`` lets each kernel load what the warm-up compiled (into ``NUMBA_CACHE_DIR``)
instead. It changes no result: cached code is the same machine code. Imported by the
grading kernels only (``IPKernelApp.exec_lines``); students' own runs never see it.
"""

try:
    import numba
    from numba.core import decorators as _decorators
except ImportError:  # no numba, nothing to cache
    pass
else:

    def _caching(decorator):
        def wrapper(*args, **kwargs):
            kwargs.setdefault("cache", True)
            return decorator(*args, **kwargs)

        wrapper.__wrapped__ = decorator
        wrapper.__doc__ = decorator.__doc__
        return wrapper

    if not getattr(_decorators.jit, "__wrapped__", None):
        _decorators.jit = numba.jit = _caching(_decorators.jit)
        _decorators.njit = numba.njit = _caching(_decorators.njit)
