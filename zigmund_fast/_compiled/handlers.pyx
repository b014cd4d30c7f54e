# cython: language_level=3
"""The per-request driver of a route: call the handler, run its coroutine's first step, make the Response.

Why this is compiled: every request runs it. In Python it was three or four
frames per request (``handle``, ``finish``, ``to_response``, ``raw_response``)
plus a ``StopIteration`` raised and caught for every coroutine that finished
without suspending: about 0.4 us of the ~3 us hello-JSON cost in-process
(benchmarks/README.md, session 3). Here the first step is ``PyIter_Send``,
which hands back the return value without an exception, and the plain
"value -> JSON Response" finish is one C call.

What a route does stays decided in Python when it is registered (app.py's
``_build_handle``): these classes only carry out that plan.
"""

import asyncio
import logging

from cpython.ref cimport Py_DECREF, PyObject

from zigmund_fast._compiled.extract cimport Collect, DirectCall
from zigmund_fast._compiled.messages cimport RequestCore, ResponseCore, TasksCore, new_response

logger = logging.getLogger("zigmund_fast")

cdef object get_running_loop = asyncio.get_running_loop

# CPython's PySendResult: PYGEN_RETURN = 0, PYGEN_ERROR = -1 (an exception is set), PYGEN_NEXT = 1.
cdef extern from "Python.h":
    int PyIter_Send(object iterator, object arg, PyObject** presult) except -1


cdef class PlainFinish:
    """``finish(request, value)`` for a route without a response plan.

    A ``Response`` passes through; any other value is JSON-encoded with
    ``encode`` into a ``response_type`` with the route's status. The response's
    own tasks join the request's, and the request's batch learns its route,
    request id and error strategy (for events and the task runner).
    """

    def __init__(self, encode, int status_code, on_error, route_path, strategy, type response_type):
        self.encode = encode
        self.status_code = status_code
        self.on_error = on_error
        self.route_path = route_path
        self.strategy = strategy
        self.response_type = response_type

    def __call__(self, request, value):
        return self.finish(request, value)

    cdef object finish(self, object request, object value):
        """What ``__call__`` returns. PERF: AsyncHandle calls this in C."""
        cdef ResponseCore response
        cdef RequestCore core = <RequestCore?>request
        cdef TasksCore batch
        if isinstance(value, ResponseCore):
            response = <ResponseCore>value
        else:
            try:
                response = new_response(self.response_type, self.encode(value), self.status_code,
                                        "application/json")
            except Exception as exc:
                return self.on_error(request, exc)
        own = response.background
        if own is not None:
            # NOTE: one queue per request; a response's own tasks run after the injected ones.
            tasks = core.background
            if tasks is None:
                core.background = own
            elif tasks is not own:
                tasks.extend(own)
        tasks = core.background
        if tasks is not None:
            # PERF: C field stores (three Python attribute stores on the subclass before).
            batch = <TasksCore?>tasks
            batch.route = self.route_path
            batch.request_id = core.request_id
            batch.strategy = self.strategy
        return response


cdef class AsyncHandle:
    """``handle(request)`` for an ``async def`` route: a Response, or a Future of one.

    ``call(request)`` makes the handler's coroutine when the arguments cannot
    fail (only ``Request``/``BackgroundTasks``); otherwise ``collect(request)``
    gives the keyword arguments or the error to answer with. With ``eager`` the
    coroutine's first step runs right here: most handlers finish without
    suspending, and then no asyncio Task is made. ``resume(coro, yielded,
    request, finish, on_error)`` and ``run_in_task(coro, request, finish,
    on_error)`` are the coroutines that carry on inside a Task.
    """

    def __init__(self, call, collect, endpoint, bint has_extractors, bint eager, finish, on_error, resume,
                 run_in_task, name):
        self.call = call
        self.collect = collect
        self.endpoint = endpoint
        self.has_extractors = has_extractors
        self.eager = eager
        self.finish = finish
        self.on_error = on_error
        self.resume = resume
        self.run_in_task = run_in_task
        self.name = name

    def __call__(self, request):
        return self.handle(request)

    cdef object handle(self, object request):
        """What ``__call__`` returns. PERF: AppDispatch calls this in C; the compiled argument
        builders and finish it holds are called in C too (a Python call of a compiled class
        builds an argument tuple)."""
        cdef PyObject* result = NULL
        cdef int status
        if self.call is not None:
            if type(self.call) is DirectCall:
                coro = (<DirectCall>self.call).call(request)
            else:
                coro = self.call(request)
        elif self.has_extractors:
            if type(self.collect) is Collect:
                kwargs = (<Collect>self.collect).collect(request)
            else:
                kwargs = self.collect(request)
            if type(kwargs) is tuple:
                coro = self.endpoint(*<tuple>kwargs)
            elif type(kwargs) is dict:
                coro = self.endpoint(**kwargs)
            else:
                return self.on_error(request, kwargs)
        else:
            coro = self.endpoint()
        if not self.eager:
            return get_running_loop().create_task(self.run_in_task(coro, request, self.finish, self.on_error))
        try:
            status = PyIter_Send(coro, None, &result)
        except BaseException as exc:
            if isinstance(exc, RuntimeError) and "inside a task" in str(exc):
                logger.error("handler %s needs to start inside an asyncio Task (%s): register it with "
                             "eager=False, or App(eager_handlers=False)", self.name, exc)
            return self.on_error(request, exc)
        value = <object>result  # a new reference, now also held by `value`
        Py_DECREF(value)
        if status == 0:  # returned without suspending
            if type(self.finish) is PlainFinish:
                return (<PlainFinish>self.finish).finish(request, value)
            return self.finish(request, value)
        return get_running_loop().create_task(self.resume(coro, value, request, self.finish, self.on_error))
