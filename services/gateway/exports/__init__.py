"""Exports of the pseudonymous read model: a registry of datasets with their data
dictionary (:mod:`.registry`), streamed as CSV or JSON lines (:mod:`.stream`), over HTTP at
``/exports/<name>.csv|jsonl`` (:mod:`.routes`) and by ``mgn export``."""
