"""Option help the commands share (the option groups of `rtconform run` and
the pytest plugin are in rtconform.run.options)."""

STRICT_ENGINES_HELP = ("keep every engine finding at the engine's own severity (default: "
                       "findings rtconform knows to be wrong on the object, e.g. dciodvfy's "
                       "Laterality of an unpaired body part, are listed as info with the "
                       "reason)")
