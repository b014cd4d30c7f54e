from zigmund_fast._compiled.events cimport ObserverCore
from zigmund_fast._compiled.routematch cimport AppDispatch
from zigmund_fast._compiled.taskring cimport TaskRunnerCore


cdef enum ConnState:
    CONN_OPEN = 0       # reading and answering requests
    CONN_DRAINING = 1   # server shutting down: answer what was parsed, then close
    CONN_LINGERING = 2  # an error response was sent; discard input until the peer closes
    CONN_CLOSED = 3     # transport lost


cdef enum StreamOutcome:
    STREAM_DONE = 0        # every chunk written
    STREAM_LOST = 1        # the client went away (the task was cancelled)
    STREAM_FAILED = 2      # the iterator raised, or the body did not match its length: the connection is cut
    STREAM_UNPREPARED = 3  # prepare() raised before the head: answered with a 500 instead


cdef class WriteBatcher:
    cdef object loop
    cdef list pending
    cdef bint scheduled
    cdef object run_callback
    cdef add(self, HTTPProtocolCore protocol)


cdef class HTTPProtocolCore:
    # Global state (shared by every connection of one server)
    cdef object state
    cdef object loop
    cdef object app_call
    cdef AppDispatch dispatch  # app_call itself when it is the compiled dispatch, else None
    cdef TaskRunnerCore runner
    cdef Py_ssize_t max_pending
    cdef Py_ssize_t limit_head
    cdef Py_ssize_t limit_body
    cdef object body_limit_for  # (method, path) -> a route's own body limit or None; None if no route has one
    cdef Py_ssize_t limit_pipeline
    cdef bint observe
    cdef ObserverCore observer  # None unless a sink is attached
    cdef WriteBatcher batcher
    cdef bint flush_deferred
    cdef double timeout_body
    cdef double timeout_handler

    # Per-connection state
    cdef object transport
    cdef object parser
    cdef object client
    cdef object pipeline
    # PERF: bound methods looked up once (a by-name call costs a type lookup each time):
    # the parser's feed_data / get_method / should_keep_alive, transport.write, and the
    # pipeline's append / popleft.
    cdef object _feed
    cdef object _get_method
    cdef object _keep_alive
    cdef object _write
    cdef object _push
    cdef object _pop
    cdef object current
    cdef list out
    cdef Py_ssize_t out_size
    cdef list out_batches
    cdef Py_ssize_t out_tasks
    cdef list out_observed
    cdef ConnState conn_state
    cdef bint writing_paused
    cdef bint reading_paused
    cdef bint tasks_paused
    cdef bint close_after_write
    cdef bint parser_done
    cdef bint in_message
    cdef bint headers_done
    cdef bint continue_pending
    cdef bint peer_closed      # the client half-closed (EOF received)
    cdef object handler_timer  # the call_later handle of a suspended handler's time limit
    cdef bint handler_timed_out
    cdef object linger_handle
    cdef object stream_task    # the Task writing the current streamed response, or None
    cdef object drain_waiter   # a Future the stream task awaits while writing is paused
    cdef object upgrade_pending  # a PendingUpgrade (WebSocket) not yet accepted or refused, or None
    cdef public double last_activity
    cdef public double message_started

    # Per-request state (the message being parsed)
    cdef bytes url
    cdef list headers
    cdef Py_ssize_t head_size
    cdef Py_ssize_t head_unparsed
    cdef bint began_in_chunk
    # The bytes being fed to the parser (while feed_data runs), for version_in_chunk.
    cdef bytes chunk
    cdef Py_ssize_t completed_in_chunk
    cdef Py_ssize_t last_body_size
    cdef bint last_chunked
    cdef bint chunked
    cdef bint has_host
    cdef Py_ssize_t declared  # Content-Length, -1 when absent
    cdef bint expect_continue
    cdef list body_chunks
    cdef Py_ssize_t body_size
    cdef Py_ssize_t message_body_limit
    cdef int error_status
    cdef str method
    cdef str http_version
    cdef bint keep_alive

    cdef str _version_in_chunk(self, bytes method)
    cdef _process_pipeline(self)
    cdef _upgrade(self, object pending)
    cdef _write_response(self, object request, object response)
    cdef _flush(self, double now=*)
    cdef _clear_message(self)
    cdef object _drained(self)
    cdef _end_stream(self, object request, object response, bint keep_alive, int outcome, Py_ssize_t sent)
    cdef _fail(self, int status, str message)
    cdef _pause_reading(self)
    cdef _resume_reading(self)
