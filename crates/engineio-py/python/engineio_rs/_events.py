"""What servers and clients share about their event handlers: the event
names and ``on()``, python-engineio's way to register them."""


class HandlerRegistry:
    """The ``handlers`` of a server or a client and ``on()``, which fills
    them. The class using it sets ``self.handlers = {}``."""

    event_names = ["connect", "disconnect", "message"]

    def on(self, event, handler=None):
        """Registers an event handler: ``connect``, ``message`` or
        ``disconnect`` (see the server's or the client's documentation for
        each one's arguments). Usable as a decorator::

            @eio.on("message")
            def message(*args):
                ...

        :param event: ``"connect"``, ``"message"`` or ``"disconnect"``.
        :param handler: the function; when not given, ``on`` returns a
            decorator.
        """
        if event not in self.event_names:
            raise ValueError("Invalid event")

        def set_handler(handler):
            self.handlers[event] = handler
            return handler

        if handler is None:
            return set_handler
        set_handler(handler)
        return None
