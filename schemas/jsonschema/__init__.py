"""Published JSON Schemas of our topic values (``<topic>.schema.json``) and their generator
(:mod:`schemas.jsonschema.generate`; run ``python -m schemas.jsonschema``)."""
