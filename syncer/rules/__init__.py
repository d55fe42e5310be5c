"""Company rules over the values (docs/rules.md): loaded and compiled once per run (load, compile), then
judged against the desired values, a plan's changes or a sheet's cells (judge). Findings are problems."""
