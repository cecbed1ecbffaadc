"""Jobs: heavy work off the request path (``queue.py``: huey, configured from the app;
``limits.py``: a child process with memory, CPU and wall-clock limits; ``reading.py``: reading
an uploaded 申报书; ``documents.py``: the 申报书模板 as .docx; ``worker.py``: the worker process
the serving command starts)."""
