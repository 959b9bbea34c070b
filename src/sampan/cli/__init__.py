"""The `sampan` command line: docker's grammar, tables, `--format` templates and exit codes.

Layout: `main` (global options, dispatch, error printing) -> `commands` (the command table)
-> one module per command group (`images`, `history`, `inspect`, `image_ops`, `pull`,
`system`), each exposing `Spec` objects. Shared pieces: `flags` (pflag-style parser),
`format` (tabwriter, go-units sizes and durations), `formatter` (docker's formatter
context), `template*` (the Go-template subset), `progress` (pull progress rendering).

Adding a command: write `run_x(cli, opts) -> int` and `X = Spec(usage, summary, [Flag...],
run_x, min_args=..)` in its group module, then add one row to `commands.TABLE`. Modules load
only when their command runs; keep module-level imports to the standard library basics so
every command starts fast (no typing, dataclasses, asyncio or http.client at import).
"""
