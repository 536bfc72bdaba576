"""The conformance-statement-style report of a run: model, rendering, pictures."""
