#!/usr/bin/env python3
"""A WebSub hub for the tests: flask-websub's hub (from PyPI), its background
tasks run in-process (Celery's eager mode: no broker), on 127.0.0.1:PORT.

Usage: hub.py PORT  (run in a scratch directory: it keeps hub.sqlite3 there)
Prints "hub ready" once it listens. Publishing (hub.mode=publish, which
flask-websub reads from hub.topic) is switched on, as the hub's own docs say
for a hub the publisher trusts.
"""

import sys

from celery import Celery
from flask import Flask
from flask_websub.hub import Hub, SQLite3HubStorage


def main():
    port = int(sys.argv[1])
    app = Flask(__name__)
    app.config["PUBLISH_SUPPORTED"] = True
    # Tests subscribe for a short lease; the hub's floor is a minute.
    app.config["HUB_MIN_LEASE_SECONDS"] = 60
    celery = Celery("hub", broker="memory://")
    celery.conf.task_always_eager = True
    celery.conf.task_eager_propagates = False
    # A file, not ":memory:": the storage opens a connection per call.
    hub = Hub(SQLite3HubStorage("hub.sqlite3"), celery, REQUEST_TIMEOUT=5, MAX_ATTEMPTS=3, BACKOFF_BASE=0.1)
    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))
    print("hub ready", flush=True)
    # Threaded: while the hub fetches a feed, the publisher's next ping can land.
    app.run(host="127.0.0.1", port=port, threaded=True)


if __name__ == "__main__":
    main()
