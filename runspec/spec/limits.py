"""
The Jobs API's limits on a runs/submit request, each defined once.

The checks, the builder, the client and the emulator read them from here. Values come from the
Jobs API documentation (see ``docs/problems.md`` for the problem each one raises).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DURATION_TARGETS",
    "INT64_MAX",
    "INT64_MIN",
    "MAX_BODY_BYTES",
    "MAX_CUSTOM_TAGS",
    "MAX_DESCRIPTION",
    "MAX_ENV_FILES",
    "MAX_ENV_VARIABLES",
    "MAX_ENV_VARIABLE_ENTRIES",
    "MAX_ENV_VARIABLE_NAME",
    "MAX_ENV_VARIABLE_VALUE",
    "MAX_OBJECT_DEPTH",
    "MAX_RUN_NAME_BYTES",
    "MAX_SSH_KEYS",
    "MAX_TAG_KEY",
    "MAX_TAG_VALUE",
    "MAX_TASKS",
    "MAX_TASK_KEY",
    "MAX_TOKEN",
    "MAX_WEBHOOKS_PER_EVENT",
]

#: Tasks in one run.
MAX_TASKS: Final = 1000
#: Characters in a task key.
MAX_TASK_KEY: Final = 100
#: Characters in an idempotency token.
MAX_TOKEN: Final = 64
#: Bytes of UTF-8 in a run name.
MAX_RUN_NAME_BYTES: Final = 4096
#: Characters in a task description.
MAX_DESCRIPTION: Final = 4096
#: Custom tags on one cluster, and the length of a tag's key and value.
MAX_CUSTOM_TAGS: Final = 45
MAX_TAG_KEY: Final = 127
MAX_TAG_VALUE: Final = 255
#: Webhook destinations per notification event.
MAX_WEBHOOKS_PER_EVENT: Final = 3
#: SSH public keys on one cluster.
MAX_SSH_KEYS: Final = 10
#: Bytes in a whole request body.
MAX_BODY_BYTES: Final = 10 * 1024 * 1024
#: ``environment_variables`` entries in a run, variables per entry, name and value lengths, .env files.
MAX_ENV_VARIABLE_ENTRIES: Final = 10
MAX_ENV_VARIABLES: Final = 20
MAX_ENV_VARIABLE_NAME: Final = 256
MAX_ENV_VARIABLE_VALUE: Final = 512
MAX_ENV_FILES: Final = 5
#: The API's integers are int64.
INT64_MAX: Final = 2**63 - 1
INT64_MIN: Final = -(2**63)
#: How deeply spec objects may nest in a body runspec loads (the schema nests far less).
MAX_OBJECT_DEPTH: Final = 24
#: The values ``duration_target`` takes.
DURATION_TARGETS: Final = ("NO_FLEXIBILITY", "4h", "12h", "24h", "72h")
