"""Run one or more WSGI apps with waitress, each on its own port, until interrupted."""
from __future__ import annotations

import threading

from waitress.server import create_server


def run_forever(apps: list[tuple], threads: int = 8) -> None:
    """Serve each (app, host, port) in its own thread; return on Ctrl+C. The first app
    also sends its outbox from a thread here unless WIDGET_WORKER is off."""
    from widget.mail import worker

    servers = [create_server(app, host=host, port=port, threads=threads, ident="widget")
               for app, host, port in apps]
    for server in servers[1:]:
        threading.Thread(target=server.run, daemon=True).start()
    # After every socket listens: the worker's first turn may read the demo's own pages
    # (the example blog's feed).
    if apps[0][0].config.get("WORKER"):
        worker.start(apps[0][0])
    try:
        servers[0].run()
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            server.close()
