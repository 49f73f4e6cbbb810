"""Code that runs inside the processes the functions engine starts: zygotes, snapshots and
execution environments.

These modules are loaded by the zygote under a private package name (``_lambdamaker_bootstrap``,
see ``main.py``) so that forked environments carry neither the ``lambdamaker`` package (whose
``__init__`` imports the whole platform) nor module names a handler could collide with. They
therefore use only the standard library, ``msgpack`` and relative imports. The platform imports
the same modules normally (``lambdamaker.engines.functions.bootstrap.framing``) for the shared
wire format.

Process tree (one per host interpreter)::

    platform (threads)
     └── base zygote            exec'd once; imports this package; root
          ├── preload zygote    forked; imports spec.preload (numpy, pandas...); root
          │    ├── snapshot     forked; sandboxed, function uid, handler module imported
          │    │    └── env     forked; own user+mount namespace and /tmp; restore hooks run
          │    └── env          forked (snapshot off or failed): sandboxed, then runs init
          └── ...
"""
