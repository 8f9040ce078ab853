"""In-memory adapter: the fake for unit tests and `TASK_STORE=memory`."""
