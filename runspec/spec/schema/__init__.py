"""
The API description the model is made from: ``schema.json`` (the generator's input, written by
tools/make_schema.py), the same schema as Python data (``_schema_data``, generated) and its reader
(``_schema``: field tables, kinds, closest-name hints). Imports nothing else of runspec.
"""
