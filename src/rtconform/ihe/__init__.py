"""IHE-RO concepts as the profiles define them, with no dependency on the rest
of rtconform: the TRO profile's actors and transactions (`tro`).

It sits below `actors/`, `run/`, `statement/` and `report/`, which all speak of
transactions: kept in `run/` it made the package cycle run → statement →
report → run. What the harness *does* as each actor (its simulator, the
transactions it performs, the CLI) is the actor registry,
`rtconform.actors.registry`, built on these names."""
