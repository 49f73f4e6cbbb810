"""Turning a freshly forked process into an isolated environment: namespaces, mounts, uid.

Two ways in, depending on who forks:

``enter_from_root`` (children of a zygote, which runs as root): a private mount namespace is
built from the host's view. ``/tmp`` becomes a tmpfs of ``tmp_mb`` (the EphemeralStorage quota),
and the host's other world-writable directories (``/dev/shm``, ``/var/tmp``, ``/run/lock``)
private tmpfs too, so functions cannot hand each other files through them.
The code and layer directories are bind-mounted read-only over small tmpfs "masks" that hide
their siblings, so an environment sees its own code and no other function's. Directories a
non-root user cannot traverse (``/root`` holding the interpreter, a data dir of mode 0700) are
masked the same way with only what the runtime needs bound back in. ``/proc`` is remounted with
``hidepid=invisible``, so another user's processes (other functions, the platform) are not even
listed. Then the process drops to the function's uid/gid for good (all three uids), sets
``no_new_privs`` and becomes dumpable again (so its own ``/proc/self`` files are its own).

``enter_from_user`` (children of a snapshot, which already runs as the function's uid): an
unprivileged process cannot make a mount namespace, but it can make a user namespace that maps
only its own uid and, inside it, a mount namespace. There it mounts a fresh tmpfs over the
snapshot's ``/tmp`` (and ``/dev/shm``), binds back whatever of the view lived under ``/tmp``,
copies in what init wrote to the snapshot's ``/tmp`` (SnapStart keeps it too), and drops the
capabilities the new namespace gave it. The snapshot's view (masks, /proc) is inherited.

Measured on this machine (kernel 6.18, cgroup v1): ``unshare(CLONE_NEWNS)`` plus the mounts
cost 0.3-1 ms; the user-namespace path 0.2-1.8 ms. Both work as root; when the platform is not
root, ``enter_from_root`` is skipped (shared /tmp, platform uid) and the caller says so.

Python 3.11 has no ``os.unshare`` (3.12+), so this goes through libc with ctypes.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import stat
import termios

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
O_PATH = getattr(os, "O_PATH", 0o10000000)
SHARED_WRITABLE = ("/dev/shm", "/var/tmp", "/run/lock")
"""Host directories anyone may write to: each environment gets private ones, or functions could
pass files to each other through them."""
SHARED_WRITABLE_MB = 64

_libc = ctypes.CDLL(None, use_errno=True)


class SandboxError(OSError):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"{what}: {os.strerror(err)}")


def _b(value: str | None) -> bytes | None:
    return None if value is None else value.encode()


def mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None
) -> None:
    _check(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)), f"mount {target}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, value, 0, 0, 0), f"prctl {option}")


def set_parent_death_signal(signum: int) -> None:
    """Die with the parent. Cleared by a credential change, so call it after ``setuid``."""
    prctl(PR_SET_PDEATHSIG, signum)


def drop_controlling_terminal() -> None:
    """Detach this process from the terminal of its session, if the session has one.

    Function processes stay in the platform's session (``engines.functions.priority``); a
    server started from a shell would otherwise lend them its terminal as ``/dev/tty``, where
    a function could write to the operator's screen, or read and be stopped (``SIGTTIN``). For
    a process that is not the session's leader, ``TIOCNOTTY`` detaches that process alone."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:  # no controlling terminal (a service, a test, CI)
        return
    try:
        fcntl.ioctl(fd, termios.TIOCNOTTY)
    except OSError:
        pass
    finally:
        os.close(fd)


def drop_capabilities() -> None:
    """Empty the effective, permitted and inheritable sets (capset, version 3)."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    header = Header(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (Data * 2)()
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


# -- the view ---------------------------------------------------------------------------------


def _world_traversable(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & stat.S_IXOTH)
    except OSError:
        return False


def _ancestors(path: str) -> list[str]:
    """``/a/b/c`` -> ``["/a", "/a/b"]`` (strict ancestors, shallow first, no ``/``)."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def plan_view(
    runtime: list[str], private: list[str], hide: list[str]
) -> tuple[list[str], list[str]]:
    """(masks, binds): tmpfs mount points, and the paths to bind back in under them.

    ``runtime`` paths must stay readable (interpreter, site-packages); ``private`` ones (code,
    layers) get their parent masked so siblings disappear; ``hide`` paths are masked outright.
    ``/tmp`` is always a mask (the quota tmpfs). Masks inside other masks are dropped.
    """
    masks = {"/tmp", *hide, *(p for p in SHARED_WRITABLE if os.path.isdir(p))}
    for path in private:
        parent = os.path.dirname(path)
        if parent not in ("/", ""):
            masks.add(parent)
    for path in [*runtime, *private]:
        for ancestor in _ancestors(path):
            if not _world_traversable(ancestor):
                masks.add(ancestor)
                break
    ordered = sorted(masks, key=lambda p: (p.count("/"), p))
    kept: list[str] = []
    for mask in ordered:
        if not any(_under(mask, outer) for outer in kept):
            kept.append(mask)
    hidden = sorted(
        {p for p in [*runtime, *private] if any(_under(p, m) for m in kept)},
        key=lambda p: (p.count("/"), p),
    )
    binds: list[str] = []
    for path in hidden:  # a path inside one already bound comes along with it
        if not any(_under(path, outer) for outer in binds):
            binds.append(path)
    return kept, binds


def _bind_from(fd: int, target: str, readonly: bool) -> None:
    _makedirs(target)
    mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC, None)
    if readonly:
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None)


def _makedirs(path: str) -> None:
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o755, exist_ok=True)


def enter_from_root(
    *,
    uid: int,
    gid: int,
    tmp_mb: int,
    runtime: list[str],
    private: list[str],
    hide: list[str],
) -> list[str]:
    """Build the view, then become ``uid``. Returns the bound paths that live under ``/tmp``
    (a snapshot's children must bind them again over their own /tmp)."""
    masks, binds = plan_view(runtime, private, hide)
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    # Handles on what the masks will hide, taken in the new namespace (a bind mount's source
    # must belong to the caller's mount namespace).
    fds = {p: os.open(p, O_PATH | os.O_CLOEXEC) for p in binds if os.path.exists(p)}
    for mask in masks:
        if mask == "/tmp":
            options = f"size={tmp_mb}m,mode=1777"
        elif mask in SHARED_WRITABLE:
            options = f"size={SHARED_WRITABLE_MB}m,mode=1777"
        else:
            options = "size=1m,mode=0755"
        if os.path.isdir(mask) or mask == "/tmp":
            _makedirs(mask)
            mount("tmpfs", mask, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for path, fd in fds.items():
        _bind_from(fd, path, readonly=True)
        os.close(fd)
    for option in ("hidepid=invisible", "hidepid=2"):
        try:
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, option)
            break
        except SandboxError:
            continue  # without it, uids still keep other functions' /proc entries unreadable
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_DUMPABLE, 1)
    return [p for p in fds if _under(p, "/tmp")]


def enter_from_user(*, tmp_mb: int, rebind: list[str]) -> None:
    """A fresh /tmp for a child of a snapshot, without privileges (see the module docstring)."""
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER | CLONE_NEWNS)
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    fds = {p: os.open(p, O_PATH | os.O_CLOEXEC) for p in rebind if os.path.exists(p)}
    snapshot_tmp = os.open("/tmp", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_mb}m,mode=1777")
    if os.path.isdir("/dev/shm"):
        shm = f"size={SHARED_WRITABLE_MB}m,mode=1777"
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, shm)
    for path, fd in fds.items():
        _makedirs(path)
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
        os.close(fd)
    # What init wrote to /tmp is part of the snapshot, as with SnapStart: copy it in.
    skip = {p[len("/tmp/") :].split("/")[0] for p in fds if p.startswith("/tmp/")}
    try:
        _copy_dir(snapshot_tmp, "/tmp", skip)
    finally:
        os.close(snapshot_tmp)
    drop_capabilities()


def _copy_dir(src_fd: int, dst: str, skip: set[str] | frozenset[str] = frozenset()) -> None:
    with os.scandir(src_fd) as entries:
        for entry in entries:
            if entry.name in skip:
                continue
            target = os.path.join(dst, entry.name)
            st = entry.stat(follow_symlinks=False)
            if entry.is_symlink():
                os.symlink(os.readlink(entry.name, dir_fd=src_fd), target)
            elif entry.is_dir(follow_symlinks=False):
                os.mkdir(target, stat.S_IMODE(st.st_mode))
                sub = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=src_fd)
                try:
                    _copy_dir(sub, target)
                finally:
                    os.close(sub)
            elif entry.is_file(follow_symlinks=False):
                src = os.open(entry.name, os.O_RDONLY, dir_fd=src_fd)
                try:
                    out = os.open(
                        target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IMODE(st.st_mode)
                    )
                    try:
                        while chunk := os.read(src, 1 << 20):
                            os.write(out, chunk)
                    finally:
                        os.close(out)
                finally:
                    os.close(src)


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
