"""The background-tasks tutorial (Zigmund's step 28), in Python.

Serve it with ``zigmund serve examples.background_tasks:app --port 8000``, then
``curl -X POST localhost:8000/tutorial/background-tasks/notifications`` and
``curl localhost:8000/tutorial/background-tasks/stats``.
"""

import zigmund_fast as zigmund

queued_notifications = 0


def send_notification(_ctx) -> None:
    global queued_notifications
    queued_notifications += 1


async def queue_notification(req: zigmund.Request, tasks: zigmund.BackgroundTasks):
    tasks.add(send_notification, None)
    return zigmund.Response.json({"queued": True})


def background_stats(req: zigmund.Request):
    return zigmund.Response.json({"notifications_sent": queued_notifications})


def build_example(app: zigmund.App) -> None:
    app.post("/tutorial/background-tasks/notifications", queue_notification,
             summary="Queue a background notification task", tags=["parity", "tutorial"])
    app.get("/tutorial/background-tasks/stats", background_stats,
            summary="Inspect background task side effects", tags=["parity", "tutorial"])


app = zigmund.App(title="Tutorial", version="0.1.0")
build_example(app)
