"""
The object machinery every spec class is built on: the frozen base (``_object``), the class maker
(``_classes``), conversion of values to fields and to the request form (``_convert``) and the loader of
JSON bodies (``_load``); ``_base`` re-exports what the generated classes import. Below the model, the
checks and the job conversion; it knows no spec class by name. Code outside it reads an object's set
fields with ``set_fields(obj)`` (or ``obj.field``, None when unset).
"""

from runspec.spec.objects._object import set_fields

__all__ = ["set_fields"]
