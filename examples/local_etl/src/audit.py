"""A task that fails: its Python traceback becomes the task's error_trace."""


def check(rows: int) -> None:
    if rows > 500:
        raise ValueError(f"{rows} orders is more than the audit allows")


check(535)
