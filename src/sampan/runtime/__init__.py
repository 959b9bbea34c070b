"""sampan-runtime: an OCI runtime with runc's command line (cli.py is the program).

Module map, in the order a `create` walks through it:
- cli, commands: runc's grammar -> one handler per command (lazy imports: start-up time counts)
- config, config_linux, mountopts: config.json -> validated, typed config (InvalidArgument names
  the JSON path); nothing is created before this passes
- state: --root/<id>/state.json and exec.fifo; status derived from pid + start time, fifo, freezer
- create (parent side), init (forked stages), sync (pipe protocol between them)
- rootfs (mounts, devices, pivot_root, masked/readonly paths), cgroupfs, process (rlimits, user,
  capabilities, seccomp, execve), console and ttyproxy (terminals), hooks
- start, run, exec, manage (state/list/kill/delete/ps/pause/resume), update, events, spec
- start-up time (every container start pays it): launch.py (`python -SEs launch.py`, what a
  shim should exec; __main__ for `python -m`), jsonc (json through _json without importing
  json/re/enum), cgroupfs.MigrationPrimer (takes the cgroup lock's grace period while we load),
  waitexit (run's and exec's wait, apart from create)
Used in-process (a shim may): create.create(root, id, CreateOptions(...)) -> state.Container,
start.start(container), manage.delete/kill/state_json, exec.exec_process(...).
cgroups/ and seccomp/ are separate packages behind small interfaces.
"""
