"""The catalogs of the rule-based backend, as data: services.json, crops.json,
units.json and cues.json."""
