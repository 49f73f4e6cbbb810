"""Function state: Pending → Active and InProgress → Successful, in the background, as on AWS.

CreateFunction and PublishVersion answer with ``State: Pending``; UpdateFunctionCode and
UpdateFunctionConfiguration with ``LastUpdateStatus: InProgress``. The ``Activator`` thread
then checks that the version's code and layers are unpacked (unpacking them again from their
blobs if they went missing) and commits ``Active``/``Successful`` with a new RevisionId, or
``Failed`` with the reason. That is what boto3's ``function_active_v2`` and
``function_updated_v2`` waiters poll for.

A job names the RevisionId it was scheduled for; when the version changed meanwhile, the newer
change has its own job and the stale one does nothing. After a restart, ``start`` schedules
every version still Pending or InProgress: a crash between the API's commit and the
activation only delays it.

Because activation takes milliseconds here, operations that AWS refuses while a function is
Pending or updating (Invoke, another update, PublishVersion) first wait briefly for it to
settle (``wait_settled``), and fail with AWS's ``ResourceConflictException`` only if it does not.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from lambdamaker.services.lambda_.code import CodeStore
from lambdamaker.services.lambda_.records import (
    VersionRecord,
    new_revision,
    select_version,
    update_version,
)
from lambdamaker.services.lambda_.tables import versions
from lambdamaker.store import Store

log = logging.getLogger("lambdamaker.lambda")

_Job = tuple[str, str, str]  # (function name, version, revision id it was scheduled for)


class Activator:
    def __init__(self, store: Store, code: CodeStore, on_change: Callable[[str], None]) -> None:
        self.store = store
        self.code = code
        self.on_change = on_change
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._settled = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(
                    versions.c.function_name, versions.c.version, versions.c.revision_id
                ).where(
                    sa.or_(versions.c.state == "Pending", versions.c.update_status == "InProgress")
                )
            ).all()
        for row in rows:
            self.schedule(row.function_name, row.version, row.revision_id)
        self._thread = threading.Thread(target=self._run, name="lambda-activator", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def schedule(self, name: str, version: str, revision_id: str) -> None:
        self._jobs.put((name, version, revision_id))

    def wait_settled(
        self, read: Callable[[], VersionRecord | None], timeout: float
    ) -> VersionRecord | None:
        """Re-read a version until it is neither Pending nor InProgress, or ``timeout``."""
        deadline = time.monotonic() + timeout
        record = read()
        while record is not None and not record.settled:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            with self._settled:
                self._settled.wait(min(left, 0.05))
            record = read()
        return record

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._activate(*job)
            except Exception:
                log.exception("activating %s:%s failed", job[0], job[1])
            with self._settled:
                self._settled.notify_all()

    def _activate(self, name: str, version: str, revision_id: str) -> None:
        with self.store.read() as conn:
            record = select_version(conn, name, version)
        if record is None or record.revision_id != revision_id:
            return  # deleted, or changed again: the newer change has its own job
        failure: str | None = None
        try:
            self.code.ensure_tree("code", record.code_hex, record.code_blob)
            for layer in record.layers:
                self.code.ensure_tree("layers", layer["Hex"], layer["Blob"])
        except Exception as exc:
            log.warning("%s:%s: code could not be prepared: %s", name, version, exc)
            failure = f"The function's code could not be unpacked: {exc}"
        with self.store.begin() as conn:
            record = select_version(conn, name, version)
            if record is None or record.revision_id != revision_id:
                return
            if failure is None:
                record.state = "Active"
                record.state_reason = record.state_reason_code = None
                record.update_status = "Successful"
                record.update_reason = record.update_reason_code = None
            else:
                if record.state == "Pending":
                    record.state = "Failed"
                    record.state_reason, record.state_reason_code = (
                        failure,
                        "InvalidZipFileException",
                    )
                record.update_status = "Failed"
                record.update_reason, record.update_reason_code = failure, "InvalidZipFileException"
            record.revision_id = new_revision()
            update_version(conn, record)
            self.store.after_commit(conn, lambda: self.on_change(name))
        self.on_change(name)
