"""Where function code runs in the host's CPU scheduler: below the platform, in its session.

Every process that runs function code (zygotes and everything forked from them: snapshots and
environments; provided-runtime bootstraps) is started ``nice`` steps below the platform
(``PlatformConfig.function_nice``, 5 by default). The platform's processes are the data plane
every function waits on: a store commit holds SQLite's write lock, and while its thread waits
for a core behind busy handlers, every other writer waits for it (measured in the streams
benchmark: a group commit held the lock ~3 ms for ~1.2 ms of CPU, ~2 ms of it runnable but not
running). Functions still get every core the platform leaves idle; nice only decides who runs
first when both want the CPU.

Invariants:
- Function processes stay in the platform's session, each environment in its own process group
  (``setpgid``, not ``setsid``; templates with ``process_group=0``): killing an environment's
  group still takes its handler's subprocesses, but a new session would be a new *autogroup*
  on kernels with ``sched_autogroup`` (most distributions' default), where each session shares
  the CPU equally with every other, so 16 busy environments would leave the whole platform a
  seventeenth of the machine, whatever the nice values.
- They do not keep the session's terminal (a server started from a shell has one): each
  environment and sandboxed bootstrap detaches from it (``sandbox.drop_controlling_terminal``),
  so function code can neither write to the operator's screen through ``/dev/tty`` nor be
  stopped reading it, as with a session of its own. (Unsandboxed bootstraps run as the
  platform's own user, who can open that terminal anyway.)
- The step is relative to the platform's own nice value and capped at 19; 0 leaves function
  processes where the platform is. Raising a child's nice needs no privilege.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger("lambdamaker.functions")

DEFAULT_NICE = 5
"""Steps below the platform that function processes run at (``nice``), unless configured."""


def lower(pid: int, steps: int) -> None:
    """Start the process ``pid`` (just spawned, single-threaded) ``steps`` below this one; the
    processes it forks from then on inherit it."""
    if steps <= 0:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + steps))
    except OSError as exc:  # already gone: its caller hears that on its own channel
        log.debug("could not lower the priority of process %d: %s", pid, exc)
