"""The app ``bench_rush.py`` serves: the system's own app, plus one bare route that answers "ok"
without a session, a query or a template: the floor the server itself sets. Served through
``python -m xkxl_intranet.serving --app _rush_app:app``, the very command ``make run`` uses."""
from xkxl_intranet import create_app

app = create_app()


@app.route("/__bare")
def bare():
    return "ok"
