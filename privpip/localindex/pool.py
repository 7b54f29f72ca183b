"""Upstream connections kept for reuse (per origin, bounded), and the watchdog that closes a
connection whose answer is overdue (one thread for every request's deadline)."""

from __future__ import annotations

import heapq
import http.client
import http.server
import itertools
import socket
import ssl
import threading
import time

from privpip.core.signals import leave_signals_to_main_thread

Origin = tuple[str, str, int]


# Idle connections kept per upstream origin: uv asks up to 50 things at once
# (UV_CONCURRENT_DOWNLOADS), and each connection a burst cannot reuse is a new handshake.
PER_ORIGIN = 64


class ConnectionPool:
    """Idle keep-alive connections per origin, so a run opens few connections per upstream."""

    def __init__(self, timeout: float, per_origin: int = PER_ORIGIN,
                 context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self.per_origin = per_origin
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._ssl = context
        self._closed = False

    def get(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
        scheme, host, port = origin
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            return http.client.HTTPSConnection(host, port, timeout=self.timeout,
                                               context=self._ssl), False
        return http.client.HTTPConnection(host, port, timeout=self.timeout), False

    def put(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self.per_origin and not self._closed:
                idle.append(conn)
                return
        conn.close()

    def warm(self, origin: Origin) -> None:
        """Open a connection to ``origin`` before anything is asked of it: the TCP and TLS
        handshakes happen while the client is still starting, not on its first request.
        Nothing is sent. On failure nothing is kept, and the first request meets (and
        reports) the problem."""
        conn, _ = self.get(origin)
        try:
            conn.connect()
        except (OSError, ValueError):  # ssl.SSLError is an OSError
            conn.close()
            return
        self.put(origin, conn)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()


class Alarm:
    """One request's total deadline; the watchdog shuts ``conn``'s socket down when it passes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.when = time.monotonic() + seconds
        self.conn: http.client.HTTPConnection | None = None
        self.fired = False
        self.done = False

    def remaining(self) -> float:
        return self.when - time.monotonic()


class Watchdog:
    """One thread for every deadline of the run: a heap of alarms, the earliest first."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Alarm]] = []
        self._count = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def arm(self, seconds: float) -> Alarm:
        alarm = Alarm(seconds)
        with self._cond:
            heapq.heappush(self._heap, (alarm.when, next(self._count), alarm))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="privpip-deadlines",
                                                daemon=True)
                self._thread.start()
            elif self._heap[0][2] is alarm:
                # Only a new earliest deadline changes the thread's wait; waking it on every
                # request cost a thread switch per request (profiled with uv's bursts).
                self._cond.notify()
        return alarm

    def watch(self, alarm: Alarm, conn: http.client.HTTPConnection) -> None:
        with self._cond:
            alarm.conn = conn
            if alarm.fired:
                _shut(conn)

    def disarm(self, alarm: Alarm) -> bool:
        """Stop watching; True when the deadline had already passed (the socket is shut)."""
        with self._cond:
            alarm.done = True
            alarm.conn = None
            return alarm.fired

    def _run(self) -> None:
        leave_signals_to_main_thread()
        with self._cond:
            while not self._stopped:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                alarm = heapq.heappop(self._heap)[2]
                alarm.fired = True
                if alarm.conn is not None:
                    _shut(alarm.conn)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()


def _shut(conn: http.client.HTTPConnection) -> None:
    # shutdown() wakes a thread blocked in recv() on this socket; close() alone would not.
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
