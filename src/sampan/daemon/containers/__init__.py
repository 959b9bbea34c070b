"""The container service: records, names, states, the rw layer, shims, waits, logs.

Spec generation (`spec.py` and friends) turns a record into an OCI config.json; the service
(`service.py`) drives a shim per container through `sampan.shim.client`.
"""
