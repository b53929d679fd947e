"""
The one table of task types, derived from the schema.

Every field of ``SubmitTask`` named ``*_task`` whose type is an object (and that the API still accepts)
is a task type. ``TASK_TYPES`` maps each field to a ``TaskType``; the checks, the builder's key naming,
the pictures and the emulator all read it, so nothing else keeps a list of task types.

What the schema says is read from it: the field, its class, and ``source_path`` (where a task type
says it reads its source from git: a ``source`` field of its own, or of one object field, as
``sql_task.file.source``). What the schema cannot say is kept by hand in ``OVERLAY``, one entry per
task type, with these keys (each optional):

``compute``
    ``"cluster"``: runs on a cluster, or on serverless compute chosen by ``environment_key``;
    ``"none"``: brings its own compute or needs none (cluster fields and libraries do not apply);
    ``"optional"``: may use a cluster but need not. Default ``"optional"``, which no check refuses.
``serverless_env_key``
    needs ``environment_key`` when it has no cluster. Default False.
``new_cluster_only``
    runs only on a new job cluster (``new_cluster``), not on an existing cluster or serverless (a
    warning). Default False.
``deprecated``
    Databricks deprecated the type (a warning). Default: the schema's ``deprecated`` flag, else False.
``output``
    what ``runs/get-output`` carries for it: ``"notebook_output"``, ``"logs"`` or None (the default).
``name``
    a function from the task-type value (see ``fields_of``) to a task-key suggestion, or None.
    Default: the kind (``"dashboard"``).
``detail``
    a function from the task-type value and a width to a one-line description for pictures. Default "".
``elsewhere``
    the field of the task-type value that, set, has the value run off any cluster, and why (a
    sentence): a notebook task with ``warehouse_id`` runs on the SQL warehouse. Default: none (it runs
    as ``compute`` says).
``job_parameters``
    a function from the task-type value to the field a job run pushes the job's parameters into (the
    value's key-value parameters), or None when that value takes none. Default: none.
``api_2_0``
    the type existed in the single-task job format of Jobs API 2.0. Default False.

A task type the schema gains appears in the table with those defaults and needs no hand edit; give it an
``OVERLAY`` entry when a default is wrong for it: that is the one hand edit a new task type may need.
"""

from __future__ import annotations

import re
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, Sequence, ValuesView
from typing import Any, Literal, overload

from runspec._text import as_text, cut, oneline, path_stem, shorten_path
from runspec.spec.limits import MAX_TASK_KEY
from runspec.spec.objects._object import SpecObject, set_fields
from runspec.spec.schema._schema import schema, schema_fields

__all__ = [
    "OVERLAY",
    "TASK_TYPES",
    "Compute",
    "TaskType",
    "fields_of",
    "suggest_key",
    "table",
    "task_type",
    "task_types",
]

Compute = Literal["cluster", "none", "optional"]
Namer = Callable[[Mapping[str, Any]], str | None]
Describer = Callable[[Mapping[str, Any], int], str]
Picker = Callable[[Mapping[str, Any]], str | None]

_EMPTY: Mapping[str, Any] = {}

#: The spec classes met so far (each is looked at once).
_SPEC_CLASSES: set[type] = set()


@overload
def fields_of(value: Any) -> Mapping[str, Any]: ...
@overload
def fields_of(value: Any, default: None) -> Mapping[str, Any] | None: ...
def fields_of(value: Any, default: Mapping[str, Any] | None = _EMPTY) -> Mapping[str, Any] | None:
    """
    The fields of a JSON object or a spec object, as one mapping, so that code after it reads both alike:
    a mapping as it is, a spec object's set fields (``set_fields``; ``extra`` not included), and
    ``default`` (an empty mapping) for anything else.
    """
    cls = type(value)
    if cls is dict:
        return value  # type: ignore[no-any-return]
    if cls in _SPEC_CLASSES:
        return set_fields(value)
    if issubclass(cls, SpecObject):
        _SPEC_CLASSES.add(cls)
        return set_fields(value)
    return value if isinstance(value, Mapping) else default


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# -- naming: a task-key suggestion from the task-type value ------------------------------------------


def _name_notebook(g: Mapping[str, Any]) -> str | None:
    return path_stem(_str(g.get("notebook_path")))


def _name_spark_python(g: Mapping[str, Any]) -> str | None:
    return path_stem(_str(g.get("python_file")))


def _name_wheel(g: Mapping[str, Any]) -> str | None:
    return _str(g.get("entry_point")) or _str(g.get("package_name"))


def _name_jar(g: Mapping[str, Any]) -> str | None:
    main = _str(g.get("main_class_name"))
    return main.rsplit(".", 1)[-1] if main else "spark_jar"


def _name_pipeline(g: Mapping[str, Any]) -> str | None:
    pipeline = _str(g.get("pipeline_id"))
    return f"pipeline_{pipeline}"[:40] if pipeline else "pipeline"


def _name_run_job(g: Mapping[str, Any]) -> str | None:
    job = g.get("job_id")
    return "run_job" if job is None else f"run_job_{job}"


def _name_sql(g: Mapping[str, Any]) -> str | None:
    file = g.get("file")
    if file is not None:
        return path_stem(_str(fields_of(file).get("path")))
    form = next((f for f in ("query", "dashboard", "alert") if g.get(f) is not None), None)
    return f"sql_{form}" if form else "sql"


def _name_for_each(g: Mapping[str, Any]) -> str | None:
    key = _str(fields_of(g.get("task")).get("task_key"))
    return f"for_each_{key}" if key else "for_each"


def _name_clean_rooms(g: Mapping[str, Any]) -> str | None:
    return path_stem(_str(g.get("notebook_name")))


# -- details: one line for pictures ------------------------------------------------------------------

_CONDITION_OPS: Mapping[str, str] = {
    "EQUAL_TO": "==",
    "NOT_EQUAL": "!=",
    "GREATER_THAN": ">",
    "GREATER_THAN_OR_EQUAL": ">=",
    "LESS_THAN": "<",
    "LESS_THAN_OR_EQUAL": "<=",
}


def _words(value: Any, sep: str, width: int) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return cut(sep.join(as_text(p) for p in value), width)
    return ""


def _detail_wheel(g: Mapping[str, Any], width: int) -> str:
    package, entry = as_text(g.get("package_name")), as_text(g.get("entry_point"))
    return cut(f"{package}:{entry}" if package and entry else package or entry, width)


def _detail_jar(g: Mapping[str, Any], width: int) -> str:
    name = as_text(g.get("main_class_name"))
    return shorten_path(name, width, ".") if name else shorten_path(as_text(g.get("jar_uri")), width)


def _detail_pipeline(g: Mapping[str, Any], width: int) -> str:
    suffix = " (full refresh)" if g.get("full_refresh") is True else ""
    return cut(as_text(g.get("pipeline_id")), max(width - len(suffix), 8)) + suffix


def _detail_sql(g: Mapping[str, Any], width: int) -> str:
    for part, id_field in (("query", "query_id"), ("dashboard", "dashboard_id"), ("alert", "alert_id")):
        sub = g.get(part)
        if sub is not None and fields_of(sub) is not _EMPTY:
            return cut(f"{part} {as_text(fields_of(sub).get(id_field))}", width)
    return shorten_path(as_text(fields_of(g.get("file")).get("path")), width)


def _detail_condition(g: Mapping[str, Any], width: int) -> str:
    op = as_text(g.get("op"))
    symbol = _CONDITION_OPS.get(op, op)
    left, right = as_text(g.get("left")), as_text(g.get("right"))
    text = f"{left} {symbol} {right}"
    if len(text) > width:
        room = max((width - len(symbol) - 2) // 2, 4)
        text = f"{cut(left, room)} {symbol} {cut(right, room)}"
    return oneline(text)


def _detail_ai_function(g: Mapping[str, Any], width: int) -> str:
    return next((name for name in ("ai_classify", "ai_extract", "ai_parse_document") if name in g), "")


# -- job parameters: the key-value field a job run pushes the job's parameters into --------------------

#: The legacy parameters of a run_job task, which do not mix with job_parameters.
_LEGACY_RUN_JOB = ("jar_params", "notebook_params", "python_params", "python_named_params", "spark_submit_params",
                   "sql_params", "dbt_commands")  # fmt: skip


def _run_job_parameters(g: Mapping[str, Any]) -> str | None:
    return None if any(g.get(legacy) is not None for legacy in _LEGACY_RUN_JOB) else "job_parameters"


def _path_detail(name: str, sep: str = "/") -> Describer:
    return lambda g, width: shorten_path(as_text(g.get(name)), width, sep)


def _cut_detail(template: str, *names: str) -> Describer:
    return lambda g, width: cut(template.format(*(as_text(g.get(n)) for n in names)), width)


#: What the schema cannot say about each task type, kept by hand (see the module docstring).
OVERLAY: dict[str, dict[str, Any]] = {
    "notebook_task": {
        "compute": "cluster",
        "output": "notebook_output",
        "name": _name_notebook,
        "detail": _path_detail("notebook_path"),
        "elsewhere": ("warehouse_id", "a notebook task with warehouse_id runs on the SQL warehouse"),
        "job_parameters": lambda g: "base_parameters",
        "api_2_0": True,
    },
    "spark_python_task": {
        "compute": "cluster",
        "serverless_env_key": True,
        "output": "logs",
        "name": _name_spark_python,
        "detail": _path_detail("python_file"),
        "api_2_0": True,
    },
    "python_wheel_task": {
        "compute": "cluster",
        "serverless_env_key": True,
        "output": "logs",
        "name": _name_wheel,
        "detail": _detail_wheel,
        # only a wheel called with keyword arguments takes them
        "job_parameters": lambda g: "named_parameters" if g.get("named_parameters") is not None else None,
        "api_2_0": True,
    },
    "spark_jar_task": {
        "compute": "cluster",
        "output": "logs",
        "name": _name_jar,
        "detail": _detail_jar,
        "api_2_0": True,
    },
    "spark_submit_task": {
        "compute": "cluster",
        "new_cluster_only": True,
        "deprecated": True,
        "detail": lambda g, width: _words(g.get("parameters"), " ", width),
        "api_2_0": True,
    },
    "dbt_task": {
        "compute": "cluster",
        "serverless_env_key": True,
        "detail": lambda g, width: _words(g.get("commands"), "; ", width),
    },
    "python_operator_task": {"compute": "optional", "output": "logs", "detail": _path_detail("main", ".")},
    "ai_function_task": {"compute": "optional", "detail": _detail_ai_function},
    "pipeline_task": {"compute": "none", "name": _name_pipeline, "detail": _detail_pipeline, "api_2_0": True},
    "run_job_task": {
        "compute": "none",
        "name": _name_run_job,
        "detail": _cut_detail("job {}", "job_id"),
        # legacy parameters and job_parameters do not mix
        "job_parameters": _run_job_parameters,
    },
    "sql_task": {
        "compute": "none",
        "name": _name_sql,
        "detail": _detail_sql,
        # alerts take no parameters
        "job_parameters": lambda g: "parameters" if g.get("alert") is None else None,
    },
    "condition_task": {"compute": "none", "detail": _detail_condition},
    "for_each_task": {"compute": "none", "name": _name_for_each},
    "clean_rooms_notebook_task": {
        "compute": "none",
        "name": _name_clean_rooms,
        "detail": _cut_detail("{}/{}", "clean_room_name", "notebook_name"),
    },
    "dashboard_task": {"compute": "none", "detail": _cut_detail("{}", "dashboard_id")},
    "alert_task": {
        "compute": "none",
        "detail": lambda g, width: (
            cut(as_text(g.get("alert_id")), width) or shorten_path(as_text(g.get("workspace_path")), width)
        ),
    },
    "power_bi_task": {
        "compute": "none",
        "detail": lambda g, width: cut(as_text(fields_of(g.get("power_bi_model")).get("model_name")), width),
    },
    "dbt_cloud_task": {"compute": "none", "deprecated": True, "detail": _cut_detail("job {}", "dbt_cloud_job_id")},
    "dbt_platform_task": {"compute": "none", "detail": _cut_detail("job {}", "dbt_platform_job_id")},
    "gen_ai_compute_task": {
        "compute": "none",
        "deprecated": True,
        "detail": lambda g, width: shorten_path(
            as_text(g.get("training_script_path")) or as_text(g.get("command")), width
        ),
    },
    "ai_runtime_task": {"compute": "none", "detail": _cut_detail("{}", "experiment")},
}


#: What a ``TaskType`` compares, hashes and shows by.
_FACTS = (
    "field",
    "kind",
    "class_name",
    "compute",
    "serverless_env_key",
    "new_cluster_only",
    "deprecated",
    "output",
    "source_path",
    "api_2_0",
)


class TaskType:
    """
    What runspec knows about one task type (one ``*_task`` field of a task). Read-only; compares by its
    facts.

    ``field`` is the task field (``"notebook_task"``), ``kind`` the field without ``_task`` (what
    pictures print), ``class_name`` the spec class's name (``"NotebookTask"``), ``source_path`` where in
    the task-type value its ``source`` is (``("source",)``, ``("file", "source")``) or None; the other
    facts are described in the module docstring. ``source_of`` reads a value's fields (its set fields,
    or a JSON mapping) for the ``source`` it sets (None: the type has no source); ``runs_elsewhere`` and
    ``source`` read a value (a spec object or a JSON mapping) with ``elsewhere`` and ``source_of``.
    """

    __slots__ = (
        "_describer",
        "_job_parameters",
        "_namer",
        "api_2_0",
        "class_name",
        "compute",
        "deprecated",
        "elsewhere",
        "field",
        "kind",
        "new_cluster_only",
        "output",
        "serverless_env_key",
        "source_of",
        "source_path",
    )

    field: str
    kind: str
    class_name: str
    compute: Compute
    serverless_env_key: bool
    new_cluster_only: bool
    deprecated: bool
    output: str | None
    source_path: tuple[str, ...] | None
    api_2_0: bool
    _namer: Namer | None
    _describer: Describer | None
    elsewhere: tuple[str, str] | None
    source_of: Picker | None
    _job_parameters: Picker | None

    def __init__(
        self,
        *,
        field: str,
        kind: str,
        class_name: str,
        compute: Compute = "optional",
        serverless_env_key: bool = False,
        new_cluster_only: bool = False,
        deprecated: bool = False,
        output: str | None = None,
        source_path: tuple[str, ...] | None = None,
        namer: Namer | None = None,
        describer: Describer | None = None,
        elsewhere: tuple[str, str] | None = None,
        job_parameters: Picker | None = None,
        api_2_0: bool = False,
    ) -> None:
        for name, value in (
            ("field", field),
            ("kind", kind),
            ("class_name", class_name),
            ("compute", compute),
            ("serverless_env_key", serverless_env_key),
            ("new_cluster_only", new_cluster_only),
            ("deprecated", deprecated),
            ("output", output),
            ("source_path", source_path),
            ("_namer", namer),
            ("_describer", describer),
            ("elsewhere", elsewhere),
            ("source_of", _source_picker(source_path)),
            ("_job_parameters", job_parameters),
            ("api_2_0", api_2_0),
        ):
            object.__setattr__(self, name, value)

    def _facts(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FACTS)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("TaskType is read-only")

    def __eq__(self, other: object) -> bool:
        return self._facts() == other._facts() if isinstance(other, TaskType) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._facts())

    def __repr__(self) -> str:
        return "TaskType(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in _FACTS) + ")"

    @property
    def git_sourced(self) -> bool:
        """Whether the type can read its source from the run's ``git_source``."""
        return self.source_path is not None

    @property
    def cls(self) -> type[Any]:
        """The spec class of the task-type value."""
        from runspec.spec.objects._base import REGISTRY

        return REGISTRY[self.class_name]

    def name(self, task: Any) -> str | None:
        """A task-key suggestion from the task-type value (a spec object or a JSON mapping), or None."""
        if self._namer is None:
            return self.kind
        return self._namer(fields_of(task))

    def detail(self, task: Any, width: int) -> str:
        """What the task runs, in one line of at most about ``width`` characters ("" when nothing)."""
        if self._describer is None:
            return ""
        return self._describer(fields_of(task), width)

    def runs_elsewhere(self, task: Any) -> str | None:
        """
        Why this task-type value (a spec object or a JSON mapping) runs off any cluster although its type
        may run on one (``"a notebook task with warehouse_id runs on the SQL warehouse"``), or None.
        """
        if self.elsewhere is None:
            return None
        field, why = self.elsewhere
        fields = set_fields(task) if type(task) in _SPEC_CLASSES else fields_of(task)
        return why if fields.get(field) is not None else None

    def job_parameters_field(self, task: Any) -> str | None:
        """The field of this task-type value a job run pushes the job's parameters into, or None."""
        if self._job_parameters is None:
            return None
        return self._job_parameters(fields_of(task))

    def source(self, task: Any) -> Any:
        """The ``source`` the task-type value (a spec object or a JSON mapping) sets (``"GIT"``, ...), or None."""
        pick = self.source_of
        if pick is None:
            return None
        return pick(set_fields(task) if type(task) in _SPEC_CLASSES else fields_of(task))


def _source_picker(path: tuple[str, ...] | None) -> Picker | None:
    """What reads the ``source`` at ``path`` from a task-type value's fields (``source_path``)."""
    if path is None:
        return None
    *outer, name = path
    if not outer:
        return lambda g: g.get(name)
    return lambda g: fields_of(g.get(outer[0])).get(name)


def _source_path(type_name: str) -> tuple[str, ...] | None:
    fields = schema()[type_name]
    if "source" in fields:
        return ("source",)
    everything = schema()
    for name, spec in fields.items():
        inner = spec["type"]
        if inner in everything and "source" in everything[inner]:
            return (name, "source")
    return None


def _build() -> dict[str, TaskType]:
    table: dict[str, TaskType] = {}
    raw = schema()["SubmitTask"]
    for name, info in schema_fields("SubmitTask").items():
        if not name.endswith("_task") or info.desc[0] != "object" or info.rejected:
            continue
        class_name = info.desc[1]
        hand = OVERLAY.get(name, {})
        table[name] = TaskType(
            field=name,
            kind=name.removesuffix("_task"),
            class_name=class_name,
            compute=hand.get("compute", "optional"),
            serverless_env_key=hand.get("serverless_env_key", False),
            new_cluster_only=hand.get("new_cluster_only", False),
            deprecated=hand.get("deprecated", bool(raw[name].get("deprecated"))),
            output=hand.get("output"),
            source_path=_source_path(class_name),
            namer=hand.get("name"),
            describer=hand.get("detail"),
            elsewhere=hand.get("elsewhere"),
            job_parameters=hand.get("job_parameters"),
            api_2_0=hand.get("api_2_0", False),
        )
    return table


class _Table(Mapping[str, TaskType]):
    """``TASK_TYPES``: built from the schema on first use, so importing runspec stays cheap."""

    __slots__ = ("_d",)

    def __init__(self) -> None:
        self._d: dict[str, TaskType] | None = None

    def _table(self) -> dict[str, TaskType]:
        d = self._d
        if d is None:
            d = self._d = _build()
        return d

    def __getitem__(self, key: str) -> TaskType:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def __contains__(self, key: object) -> bool:
        return key in self._table()

    # The Mapping mixins go through __getitem__ one key at a time; these go straight to the dict.
    def get(self, key: str, default: Any = None) -> Any:
        return self._table().get(key, default)

    def keys(self) -> KeysView[str]:
        return self._table().keys()

    def values(self) -> ValuesView[TaskType]:
        return self._table().values()

    def items(self) -> ItemsView[str, TaskType]:
        return self._table().items()

    def __repr__(self) -> str:
        return f"TASK_TYPES({list(self._table())})"


#: Every task type, by field, in schema order.
TASK_TYPES: Mapping[str, TaskType] = _Table()


def table() -> dict[str, TaskType]:
    """``TASK_TYPES`` as a plain dict (for code that reads it once per task of a large run)."""
    return TASK_TYPES._table()  # type: ignore[attr-defined, no-any-return]


def task_type(field: str) -> TaskType:
    """The entry for ``field``; a default one (kind from the name, no facts) for a field the table lacks."""
    entry = TASK_TYPES.get(field)
    if entry is not None:
        return entry
    kind = field.removesuffix("_task")
    return TaskType(field=field, kind=kind, class_name="".join(p.title() for p in kind.split("_")) + "Task")


_NOT_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-]+")  # the characters a task key may not have (ASCII)


def suggest_key(fields: Mapping[str, Any]) -> str | None:
    """A task key for a task with these fields, from its task type's naming rule (None: no suggestion)."""
    types = table()
    for name, value in fields.items():
        entry = types.get(name)
        if entry is not None:
            raw = entry.name(value)
            if raw:
                cleaned = _NOT_KEY_CHARS.sub("_", raw).strip("_")[:MAX_TASK_KEY]
                return cleaned or None
    return None


def task_types(task: Any) -> list[str]:
    """The task-type fields set on ``task`` (a spec task or a JSON mapping; exactly one in a valid run)."""
    types = table()
    return [k for k in fields_of(task) if k in types]
