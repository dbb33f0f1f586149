"""``WSGIApp`` and ``Middleware``: python-engineio's WSGI application for a
``Server``."""

from . import _core
from . import static_files as _static


class WSGIApp:
    """Dispatches WSGI traffic: the engine.io path to the Engine.IO
    ``Server``, then static files, then ``wsgi_app``, else a 404.

    :param engineio_app: the ``engineio_rs.Server``.
    :param wsgi_app: a WSGI app for every other path (a Flask or Django
        app, for example).
    :param static_files: static file rules (see the package's README).
    :param engineio_path: where the server answers (default ``engine.io``).

    Example, with werkzeug's threaded development server::

        eio = engineio_rs.Server()
        app = engineio_rs.WSGIApp(eio, static_files={"/": "index.html"})
        werkzeug.serving.run_simple("127.0.0.1", 5000, app, threaded=True)
    """

    def __init__(self, engineio_app, wsgi_app=None, static_files=None, engineio_path="engine.io"):
        self.engineio_app = engineio_app
        self.wsgi_app = wsgi_app
        self.engineio_path = engineio_path
        if not self.engineio_path.startswith("/"):
            self.engineio_path = "/" + self.engineio_path
        if not self.engineio_path.endswith("/"):
            self.engineio_path += "/"
        self.static_files = static_files or {}
        self._static_rules = _core.StaticRules(self.static_files)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(self.engineio_path):
            return self.engineio_app.handle_request(environ, start_response)
        found = _static.read(path, self._static_rules)
        if found is not None:
            content_type, body = found
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        if self.wsgi_app is not None:
            return self.wsgi_app(environ, start_response)
        return self.not_found(start_response)

    @staticmethod
    def not_found(start_response):
        """A 404 for a path that is not served."""
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found"]


class Middleware(WSGIApp):
    """``WSGIApp`` without static files (python-engineio's deprecated
    name)."""

    def __init__(self, engineio_app, wsgi_app=None, engineio_path="engine.io"):
        super().__init__(engineio_app, wsgi_app, engineio_path=engineio_path)
