"""The Lambda Runtime API (version 2018-06-01), served to one execution environment.

A ``provided.*`` function brings its own runtime: an executable ``bootstrap`` that loops on
``GET /runtime/invocation/next`` (a long poll whose body is the event) and answers each event with
``POST /runtime/invocation/{id}/response`` or ``/error``; a runtime that cannot start posts
``/runtime/init/error`` instead. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

One ``RuntimeAPIServer`` serves one environment, on 127.0.0.1 and an ephemeral port
(``AWS_LAMBDA_RUNTIME_API``). It is plain blocking sockets: an accept thread plus one thread per
connection, because a runtime holds one or two connections and a parked ``/next`` is just a
thread waiting on a condition. The environment (``provided_env``) hands it ``Invocation``s with
``submit`` and waits on ``Invocation.done``.

Behaviour follows aws-lambda-runtime-interface-emulator (the RIE), which is Lambda's own code:

- The runtime moves through the RIE's states: ``Started`` → (first ``/next``) ``Ready`` →
  (``/response`` or ``/error``) ``RuntimeResponseSentState`` → (``/next``) ``Ready``...; or
  ``Started`` → (``/init/error``) ``InitError``. A call not allowed in the current state gets 403
  ``InvalidStateTransition`` with the RIE's message.
- ``/response`` and ``/error`` name a request id. An id other than the invocation in flight (or
  any id once that invocation has completed) gets 400 ``InvalidRequestID``; this check comes
  before the state check, as in the RIE's router.
- A response over 6 MB (6,291,556 bytes: 6 MiB + 100, Lambda's limit) gets 413
  ``RequestEntityTooLarge`` and the invocation completes with ``Function.ResponseSizeTooLarge``.
- A second ``/next`` while an invocation is in flight gets that invocation again (the RIE
  re-renders the current event).

Invariants: at most one invocation is in flight; an ``Invocation`` completes exactly once
(``complete`` is first-wins under the server lock, so a response racing a timeout or a crash has
one outcome); after ``close`` no thread of this server is left blocked.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from dataclasses import dataclass, field

from lambdamaker.engines.functions.contract import error_document
from lambdamaker.engines.functions.runtime_http import BadRequestError, Connection, Request

_log = logging.getLogger(__name__)

API_PREFIX = "/2018-06-01"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 + 100
"""The largest response (and error body) a runtime may post: Lambda's 6 MB, exactly as the RIE
and Lambda count it (6,291,556 bytes)."""
ERROR_CAUSE_CONTENT_TYPE = "application/vnd.aws.lambda.error.cause+json"

# Runtime states, named as the RIE names them (they appear in its error messages).
STARTED = "Started"
INIT_ERROR = "InitError"
READY = "Ready"
RESPONSE_SENT = "RuntimeResponseSentState"
_TRANSITION_MESSAGE = (
    "State transition from {frm} to {to} failed for runtime. Error: State transition is not allowed"
)


@dataclass
class Outcome:
    """How an invocation ended, as the invoker will see it."""

    body: bytes
    error_type: str | None = None
    """None for a response; the function error's type otherwise (``Lambda-Runtime-Function-Error-
    Type`` as posted, or Lambda's own: ``Runtime.ExitError``, ``Sandbox.Timedout``...)."""
    reason: str = "response"
    """``response``, ``error``, ``init_error``, ``too_large``, ``timeout``, ``exit``."""


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    invoked_function_arn: str
    deadline_ms: int
    """Epoch milliseconds (``Lambda-Runtime-Deadline-Ms``)."""
    trace_id: str = ""
    client_context: str = ""
    """JSON text, already decoded from the invoker's base64."""
    cognito_identity: str = ""
    """JSON text: ``{"cognitoIdentityId": ..., "cognitoIdentityPoolId": ...}``."""
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None
    delivered_ns: int = 0
    """``time.perf_counter_ns()`` when the runtime received the event; 0 until then."""


_COMPACT = (",", ":")


def _error_body(error_type: str, message: str) -> bytes:
    # The RIE's model.ErrorResponse for its own 4xx answers, as Go renders it: compact JSON,
    # errorMessage first, a trailing newline.
    body = {"errorMessage": message, "errorType": error_type}
    return json.dumps(body, separators=_COMPACT).encode() + b"\n"


_ACCEPTED = b'{"status":"OK"}\n'


class RuntimeAPIServer:
    """Serves the Runtime API of one environment. Thread-safe."""

    def __init__(self, *, max_payload_bytes: int = MAX_PAYLOAD_BYTES) -> None:
        self.max_payload_bytes = max_payload_bytes
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port: int = self._listener.getsockname()[1]
        self._cond = threading.Condition()
        self._state = STARTED
        self._pending: Invocation | None = None  # submitted, not yet handed to the runtime
        self._current: Invocation | None = None  # submitted and not completed
        self._init_error: Outcome | None = None
        self._initialized = False
        self.initialized_ns = 0
        """``time.perf_counter_ns()`` of the runtime's first ``/next``: the end of init."""
        self._runtime_gone = False
        self._closed = False
        self._connections: set[Connection] = set()
        self._thread = threading.Thread(target=self._accept_loop, name="runtime-api", daemon=True)

    @property
    def address(self) -> str:
        """``host:port``, the value of ``AWS_LAMBDA_RUNTIME_API``."""
        return f"127.0.0.1:{self.port}"

    @property
    def state(self) -> str:
        return self._state

    @property
    def initialized(self) -> bool:
        """The runtime has asked for its first event."""
        return self._initialized

    @property
    def init_error(self) -> Outcome | None:
        """What the runtime posted to ``/init/error``, if it did."""
        return self._init_error

    def start(self) -> RuntimeAPIServer:
        self._thread.start()
        return self

    # -- the environment's side -------------------------------------------------------------------

    def wait_initialized(self, timeout: float) -> bool:
        """Block until the runtime finished init (first ``/next``), reported an init error, or
        went away (``runtime_gone``). False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(
                lambda: (
                    self._initialized
                    or self._init_error is not None
                    or self._runtime_gone
                    or self._closed
                ),
                timeout,
            )

    def submit(self, invocation: Invocation) -> None:
        """Hand ``invocation`` to the runtime's (next) ``/next``. Completes it with the init
        error at once if the runtime already reported one."""
        with self._cond:
            if invocation.outcome is not None:
                return  # completed before it got here (the runtime exited meanwhile)
            if self._current is not None:
                raise RuntimeError("an invocation is already in flight in this environment")
            if self._init_error is not None:
                self._finish(invocation, self._init_error)
                return
            self._current = self._pending = invocation
            self._cond.notify_all()

    def complete(self, invocation: Invocation, outcome: Outcome) -> bool:
        """Complete ``invocation`` with ``outcome`` unless it already has one (first wins).
        The environment uses it for timeouts and crashes."""
        with self._cond:
            if invocation.outcome is not None:
                return False
            if self._current is invocation:
                self._current = None
                if self._pending is invocation:
                    self._pending = None
            self._finish(invocation, outcome)
            return True

    def runtime_gone(self) -> None:
        """The runtime process exited: wake everyone waiting for it."""
        with self._cond:
            self._runtime_gone = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
            connections = list(self._connections)
        try:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        for conn in connections:
            conn.close()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    # -- serving ------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            # TCP_NODELAY on every connection. Without it, Nagle's algorithm holds a small write
            # back until the previous one is ACKed, and the runtime delays that ACK (40 ms on
            # Linux): a response written in two pieces (a large event's head and body, a
            # "100 Continue" then the status) stalls ~44 ms, ~88 ms when both sides do it.
            # Measured here: 44 ms per call with Nagle, 0.11 ms without.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(sock)
            with self._cond:
                if self._closed:
                    conn.close()
                    return
                self._connections.add(conn)
            threading.Thread(
                target=self._serve, args=(conn,), name="runtime-api-conn", daemon=True
            ).start()

    def _serve(self, conn: Connection) -> None:
        try:
            while not self._closed:
                request = conn.read_request(self.max_payload_bytes + 1)
                if request is None or not self._dispatch(conn, request) or not request.keep_alive:
                    break
        except BadRequestError as exc:
            try:
                conn.respond(exc.status, _error_body("InvalidRequestFormat", str(exc)), close=True)
            except OSError:
                pass
        except OSError:
            pass
        except Exception:  # our bug: answer as the RIE does (500), never kill the thread silently
            _log.exception("Runtime API request failed")
            try:
                conn.respond(500, _error_body("InternalServerError", "Internal Server Error"))
            except OSError:
                pass
        finally:
            with self._cond:
                self._connections.discard(conn)
            conn.close()

    def _dispatch(self, conn: Connection, request: Request) -> bool:
        """Answer one request; False closes the connection."""
        path = request.path
        if not path.startswith(API_PREFIX + "/"):
            return self._not_found(conn)
        route = path[len(API_PREFIX) :]
        if route == "/runtime/invocation/next":
            if request.method != "GET":
                return self._method_not_allowed(conn, "GET")
            return self._next(conn)
        if route == "/runtime/init/error":
            if request.method != "POST":
                return self._method_not_allowed(conn, "POST")
            return self._init_error_posted(conn, request)
        if route.startswith("/runtime/invocation/"):
            request_id, _, action = route[len("/runtime/invocation/") :].partition("/")
            if action in ("response", "error") and "/" not in request_id:
                if request.method != "POST":
                    return self._method_not_allowed(conn, "POST")
                return self._result_posted(conn, request, request_id, action)
        if route == "/ping" and request.method == "GET":
            conn.respond(200, b"pong", content_type="text/plain")
            return True
        return self._not_found(conn)

    def _next(self, conn: Connection) -> bool:
        with self._cond:
            if self._state == INIT_ERROR:
                return self._forbidden(conn, self._state, READY)
            if self._state == READY and self._current is not None and self._pending is None:
                invocation = self._current  # the RIE hands out the event in flight again
            else:
                if not self._initialized:
                    # Init is over when the runtime first asks for work: wake wait_initialized.
                    # The state stays Started until an event arrives, as in the RIE.
                    self._initialized = True
                    self.initialized_ns = time.perf_counter_ns()
                    self._cond.notify_all()
                # Parked here until submit(). (Measured: writing the event from the submitting
                # thread instead, to skip this wake-up, was no faster, because the wake-up
                # overlaps the submitter going to sleep; so the simple way stays.)
                while self._pending is None and not self._closed and not self._runtime_gone:
                    self._cond.wait()
                if self._pending is None:
                    return False
                invocation = self._pending
                self._pending = None
                self._state = READY
        self._deliver(conn, invocation)
        return True

    def _deliver(self, conn: Connection, invocation: Invocation) -> None:
        """Answer a ``/next`` with ``invocation``."""
        try:
            conn.respond(
                200,
                invocation.payload,
                content_type="application/json",
                headers=_next_headers(invocation),
            )
        except OSError:
            # The runtime hung up while parked (a client-side timeout on /next): put the event
            # back so its next /next gets it, rather than losing it.
            with self._cond:
                if self._current is invocation and self._pending is None:
                    self._pending = invocation
                    self._cond.notify_all()
            return
        if not invocation.delivered_ns:
            invocation.delivered_ns = time.perf_counter_ns()

    def _result_posted(
        self, conn: Connection, request: Request, request_id: str, action: str
    ) -> bool:
        target = "InvocationResponse" if action == "response" else "InvocationErrorResponse"
        with self._cond:
            invocation = self._current
            if invocation is None or not request_id or request_id != invocation.request_id:
                conn.respond(400, _error_body("InvalidRequestID", "Invalid request ID"))
                return True
            if self._state != READY or self._pending is invocation:
                return self._forbidden(conn, self._state, target)
            self._state = RESPONSE_SENT
            self._current = None
            if request.body_size > self.max_payload_bytes:
                message = (
                    f"Response payload size ({request.body_size} bytes) exceeded maximum allowed "
                    f"payload size ({self.max_payload_bytes} bytes)."
                )
                outcome = Outcome(
                    error_document("Function.ResponseSizeTooLarge", message),
                    "Function.ResponseSizeTooLarge",
                    "too_large",
                )
                self._finish(invocation, outcome)
                tail = f"Exceeded maximum allowed payload size ({self.max_payload_bytes} bytes)."
                conn.respond(413, _error_body("RequestEntityTooLarge", tail))
                return True
            if action == "response":
                self._finish(invocation, Outcome(request.body))
            else:
                self._finish(invocation, _posted_error(request, "error"))
        conn.respond(202, _ACCEPTED)
        return True

    def _init_error_posted(self, conn: Connection, request: Request) -> bool:
        with self._cond:
            if self._state != STARTED:
                return self._forbidden(conn, self._state, INIT_ERROR)
            self._state = INIT_ERROR
            self._init_error = _posted_error(request, "init_error")
            # An invoke that arrived before init finished gets the init error as its result.
            if self._current is not None:
                invocation, self._current, self._pending = self._current, None, None
                self._finish(invocation, self._init_error)
            self._cond.notify_all()
        conn.respond(202, _ACCEPTED)
        return True

    def _finish(self, invocation: Invocation, outcome: Outcome) -> None:
        # Caller holds the lock.
        if invocation.outcome is None:
            invocation.outcome = outcome
            invocation.done.set()

    def _forbidden(self, conn: Connection, frm: str, to: str) -> bool:
        message = _TRANSITION_MESSAGE.format(frm=frm, to=to)
        conn.respond(403, _error_body("InvalidStateTransition", message))
        return True

    def _not_found(self, conn: Connection) -> bool:
        conn.respond(404, b"404 page not found\n", content_type="text/plain; charset=utf-8")
        return True

    def _method_not_allowed(self, conn: Connection, allow: str) -> bool:
        conn.respond(405, content_type=None, headers=[("Allow", allow)])
        return True


def _next_headers(invocation: Invocation) -> list[tuple[str, str]]:
    # The RIE's order; empty values are left out, as it does.
    headers = [("Lambda-Runtime-Aws-Request-Id", invocation.request_id)]
    if invocation.trace_id:
        headers.append(("Lambda-Runtime-Trace-Id", invocation.trace_id))
    if invocation.client_context:
        headers.append(("Lambda-Runtime-Client-Context", invocation.client_context))
    if invocation.cognito_identity:
        headers.append(("Lambda-Runtime-Cognito-Identity", invocation.cognito_identity))
    headers.append(("Lambda-Runtime-Invoked-Function-Arn", invocation.invoked_function_arn))
    headers.append(("Lambda-Runtime-Deadline-Ms", str(invocation.deadline_ms)))
    return headers


def _posted_error(request: Request, reason: str) -> Outcome:
    """The invoker's view of an ``/error`` or ``/init/error`` body.

    A JSON body goes to the invoker as posted (Lambda passes it through). With the error-cause
    content type the body also carries ``errorCause`` (for X-Ray), which Lambda strips. A body
    that is not JSON is wrapped in Lambda's error shape so the invoker still gets JSON.
    """
    error_type = request.headers.get("lambda-runtime-function-error-type") or "Runtime.Unknown"
    body = request.body
    try:
        document = json.loads(body) if body.strip() else None
    except ValueError:
        document = None
    if document is None:
        text = body.decode("utf-8", "replace")
        return Outcome(error_document(error_type, text), error_type, reason)
    if request.headers.get("content-type", "").startswith(ERROR_CAUSE_CONTENT_TYPE):
        if isinstance(document, dict):
            kept = {
                k: document[k] for k in ("errorMessage", "errorType", "stackTrace") if k in document
            }
            body = json.dumps(kept, separators=_COMPACT).encode()
        else:
            body = json.dumps("Invalid error body").encode()
    return Outcome(body, error_type, reason)
