"""A TCP proxy to a real server, which a test can take down, freeze and bring back (an outage)."""

import contextlib
import socket
import threading


class TcpProxy:
    """Forwards 127.0.0.1:port to target.

    - `down()` closes every connection and refuses new ones (a server that is not there);
    - `freeze()` accepts connections but forwards nothing, either way, on new or open ones (a
      server or a network that hangs); what was held goes through once it is `up()` again.
    """

    def __init__(self, target: tuple[str, int], port: int) -> None:
        self.target = target
        self.port = port
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()

    def up(self) -> None:
        """Listen (again) and forward; also ends a freeze."""
        with self._lock:
            listening = self._listener is not None
        if not listening:
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self._listener = listener
            threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        self._flowing.set()

    def freeze(self) -> None:
        """Accept connections but forward nothing, on new and open connections alike, until
        `thaw()` (or `up()`)."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def down(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        if listener is not None:
            # close() alone leaves a thread blocked in accept() listening (Linux): shutdown()
            # wakes it, and the port refuses connections from now on.
            _shut(listener)
            listener.close()
        for sock in sockets:
            _shut(sock)
            sock.close()
        self._flowing.set()  # pumps held by a freeze wake up and find their sockets closed

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: the proxy is down
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        with self._lock:
            self._sockets.add(client)
        self._flowing.wait()  # frozen: the client is connected, but hears nothing
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        server.settimeout(None)
        with self._lock:
            self._sockets.add(server)
        for source, sink in ((client, server), (server, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _shut(source)
            _shut(sink)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
