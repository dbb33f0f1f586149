"""``ASGIApp``: python-engineio's ASGI middleware for an ``AsyncServer``."""

from . import _core
from . import static_files as _static


class ASGIApp:
    """Dispatches ASGI traffic: the engine.io path to the Engine.IO
    ``AsyncServer``, then static files (HTTP only), then ``other_asgi_app``,
    else a 404.

    :param engineio_server: the ``engineio_rs.AsyncServer``.
    :param other_asgi_app: an ASGI app for every other path.
    :param static_files: static file rules (see the package's README).
    :param engineio_path: where the server answers (default ``engine.io``);
        ``None`` sends all traffic to it.
    :param on_startup: called (or awaited) on the ASGI lifespan startup.
    :param on_shutdown: called (or awaited) on the ASGI lifespan shutdown.

    When ``other_asgi_app`` is given and neither hook is, the lifespan
    events go to it.

    Example, under uvicorn::

        eio = engineio_rs.AsyncServer()
        app = engineio_rs.ASGIApp(eio, static_files={"/": "index.html"})
        # uvicorn module:app
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
        self.engineio_server = engineio_server
        self.static_files = static_files or {}
        self._static_rules = _core.StaticRules(self.static_files)
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
            if (
                self.other_asgi_app is not None
                and self.on_startup is None
                and (self.on_shutdown is None)
            ):
                return await self.other_asgi_app(scope, receive, send)
            return await self.lifespan(receive, send)
        path = scope.get("path", "")
        if not path.endswith("/"):
            path += "/"
        if scope["type"] in ("http", "websocket") and (
            self.engineio_path is None or path.startswith(self.engineio_path)
        ):
            return await self.engineio_server.handle_request(scope, receive, send)
        if scope["type"] == "http" and self.static_files:
            found = _static.read(scope.get("path", ""), self._static_rules)
            if found is not None:
                return await self.serve_static_file(found, send)
        if self.other_asgi_app is not None:
            return await self.other_asgi_app(scope, receive, send)
        return await self.not_found(receive, send)

    @staticmethod
    async def serve_static_file(found, send):
        """Answers with a static file: ``(content_type, body)``."""
        content_type, body = found
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", content_type.encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def lifespan(self, receive, send):
        """Runs the startup and shutdown hooks; a hook that raises fails
        the step (``lifespan.startup.failed``)."""
        while True:
            event = await receive()
            for step, hook in (("startup", self.on_startup), ("shutdown", self.on_shutdown)):
                if event["type"] == f"lifespan.{step}":
                    try:
                        await _maybe_await(hook)
                    except Exception as err:  # reported to the ASGI server
                        await send({"type": f"lifespan.{step}.failed", "message": str(err)})
                        return
                    await send({"type": f"lifespan.{step}.complete"})
                    if step == "shutdown":
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
