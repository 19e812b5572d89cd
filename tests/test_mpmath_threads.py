"""mpmath's working precision is one process-wide global: float64 fallbacks in threads must not touch it.

mc_check evaluates chunks in threads; a compiled estimator whose function numpy lacks falls back to
mpmath element by element.  Evaluated through mpmath's default context, the threads' internal
precision changes interleave and leave another computation (the main thread inside
``workdps(50)``, deciding a residual) at the wrong precision.
"""

import threading

import mpmath
import numpy as np
import sympy as sp

from symflow.numeric.numpy_backend import _mpmath_elementwise


def test_elementwise_fallback_in_threads_leaves_the_main_threads_precision_alone():
    x = sp.Symbol("x")
    f = _mpmath_elementwise(sp.zeta(x + 2), (x,))
    xs = np.linspace(0.5, 5, 50)
    want = f(xs)
    errors, seen = [], set()

    def work():
        for _ in range(10):
            errors.append(float(np.max(np.abs(f(xs) - want))))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    with mpmath.workdps(50):
        while any(t.is_alive() for t in threads):
            seen.add(mpmath.mp.dps)
            mpmath.zeta(3)
    for t in threads:
        t.join()
    assert seen == {50}  # never changed under the main thread
    assert mpmath.mp.dps == 15 and max(errors) == 0.0
