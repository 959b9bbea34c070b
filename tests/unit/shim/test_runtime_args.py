"""Runtime argv building (runc's grammar) and the shim's own command line."""

from __future__ import annotations

import sys

import pytest

from sampan.shim import args
from sampan.shim.runtime import RuntimeCommandError, RuntimeDriver, argv_command, run_capture


def test_create_argv_with_everything() -> None:
    d = RuntimeDriver("/usr/sbin/runc", root="/run/r", log_path="/s/log.json")
    assert d.create_argv("c1", "/b", "/s/init.pid", "/s/console.sock") == [
        "/usr/sbin/runc", "--root", "/run/r", "--log", "/s/log.json", "--log-format", "json",
        "create", "--bundle", "/b", "--pid-file", "/s/init.pid", "--console-socket", "/s/console.sock", "c1"]


def test_plain_argvs() -> None:
    d = RuntimeDriver("runc")
    assert d.create_argv("c1", "/b", "/p") == ["runc", "create", "--bundle", "/b", "--pid-file", "/p", "c1"]
    assert d.start_argv("c1") == ["runc", "start", "c1"]
    assert d.kill_argv("c1", 9) == ["runc", "kill", "c1", "9"]
    assert d.kill_argv("c1", "TERM", all_processes=True) == ["runc", "kill", "--all", "c1", "TERM"]
    assert d.delete_argv("c1") == ["runc", "delete", "c1"]
    assert d.delete_argv("c1", force=True) == ["runc", "delete", "--force", "c1"]
    assert d.state_argv("c1") == ["runc", "state", "c1"]
    assert d.pause_argv("c1") == ["runc", "pause", "c1"]
    assert d.exec_argv("c1", "/s/p.json", "/s/p.pid") == [
        "runc", "exec", "--process", "/s/p.json", "--detach", "--pid-file", "/s/p.pid", "c1"]
    assert d.exec_argv("c1", "/p", "/q", "/s/x1.sock")[-3:] == ["--console-socket", "/s/x1.sock", "c1"]
    assert d.resume_argv("c1") == ["runc", "resume", "c1"]


def test_argv_command_skips_global_options() -> None:
    d = RuntimeDriver("runc", root="/r", log_path="/l")
    assert argv_command(d.kill_argv("c", 9)) == "kill"


def test_check_reports_stderr_of_a_failing_command() -> None:
    d = RuntimeDriver(sys.executable)
    with pytest.raises(RuntimeCommandError, match="bad thing") as info:
        d.check([sys.executable, "-c", "import sys; sys.stderr.write('bad thing'); sys.exit(3)"])
    assert info.value.code == 3


def test_run_capture_collects_stdout() -> None:
    result = run_capture([sys.executable, "-c", "print('{\"status\": \"running\"}')"], timeout=10)
    assert result.code == 0 and result.stdout.strip() == b'{"status": "running"}'


def test_runtime_error_from_json_log(tmp_path: object) -> None:
    log = f"{tmp_path}/log.json"
    with open(log, "w") as f:
        f.write('{"level":"warning","msg":"old"}\n')
    d = RuntimeDriver(sys.executable, log_path=log)
    script = (f"open({log!r}, 'a').write('{{\"level\":\"info\",\"msg\":\"x\"}}\\n"
              "{\"level\":\"error\",\"msg\":\"container not running\"}\\n'); raise SystemExit(1)")
    with pytest.raises(RuntimeCommandError, match=r"^container not running$"):
        d.check([sys.executable, "-c", script])


def test_shim_args_round_trip() -> None:
    opts = args.parse(["--id", "c1", "--bundle", "/b", "--state-dir=/s", "--runtime", "crun", "--runtime-root", "/r",
                       "--log-path", "/l.json", "--log-max-size", "1000", "--log-max-file", "3", "--tty", "--stdin",
                       "--timeout", "5"])
    assert (opts.id, opts.bundle, opts.state_dir, opts.runtime, opts.runtime_root) == ("c1", "/b", "/s", "crun", "/r")
    assert (opts.log_path, opts.log_max_size, opts.log_max_file) == ("/l.json", 1000, 3)
    assert opts.tty and opts.stdin
    assert opts.timeout == 5.0 and opts.path("shim.sock") == "/s/shim.sock"
    again = args.parse(args.to_argv(opts))
    assert vars(again) == vars(opts)


@pytest.mark.parametrize("argv", [[], ["--id", "x", "--bundle", "/b"], ["--id"], ["--bogus"],
                                  ["--id", "x", "--bundle", "/b", "--state-dir", "/s", "--log-max-file", "0"],
                                  ["--id", "x", "--bundle", "/b", "--state-dir", "/s", "--log-max-size", "1m"]])
def test_shim_args_errors(argv: list[str]) -> None:
    with pytest.raises(args.UsageError):
        args.parse(argv)
