"""``ASGIApp``: python-engineio's ASGI middleware for an ``AsyncServer``."""


class ASGIApp:
    """Dispatches ASGI traffic to an Engine.IO ``AsyncServer``; other paths
    go to ``other_asgi_app`` (or get a 404).

    :param engineio_server: the ``engineio_rs.AsyncServer``.
    :param other_asgi_app: an ASGI app for every other path.
    :param static_files: not available yet (``NotImplementedError``).
    :param engineio_path: where the server answers (default ``engine.io``);
        ``None`` sends all traffic to it.
    :param on_startup: called (or awaited) on the ASGI lifespan startup.
    :param on_shutdown: called (or awaited) on the ASGI lifespan shutdown.
    """

    def __init__(
        self,
        engineio_server,
        other_asgi_app=None,
        static_files=None,
        engineio_path="engine.io",
        on_startup=None,
        on_shutdown=None,
    ):
        if static_files:
            raise NotImplementedError("static_files is not available yet")
        self.engineio_server = engineio_server
        self.other_asgi_app = other_asgi_app
        self.engineio_path = engineio_path
        if self.engineio_path is not None:
            if not self.engineio_path.startswith("/"):
                self.engineio_path = "/" + self.engineio_path
            if not self.engineio_path.endswith("/"):
                self.engineio_path += "/"
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.lifespan(receive, send)
        path = scope.get("path", "")
        if not path.endswith("/"):
            path += "/"
        if scope["type"] in ("http", "websocket") and (
            self.engineio_path is None or path.startswith(self.engineio_path)
        ):
            return await self.engineio_server.handle_request(scope, receive, send)
        if self.other_asgi_app is not None:
            return await self.other_asgi_app(scope, receive, send)
        return await self.not_found(receive, send)

    async def lifespan(self, receive, send):
        """Runs the startup and shutdown hooks."""
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await _maybe_await(self.on_startup)
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await _maybe_await(self.on_shutdown)
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def not_found(receive, send):
        """A 404 for a path that is not served."""
        await send(
            {
                "type": "http.response.start",
                "status": 404,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"Not Found"})


async def _maybe_await(hook):
    if hook is None:
        return
    result = hook()
    if hasattr(result, "__await__"):
        await result
