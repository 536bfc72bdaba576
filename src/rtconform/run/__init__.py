"""Running the IHE-RO TRO scenarios: SUT file, run context, steps, pytest plugin, runner."""
