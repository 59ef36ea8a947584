"""scripts/demo.sh, test.sh and bench.sh end with one line each saying where the plot, the logs
and the benchmark JSON are, and keep a log of everything they print (scripts/common.sh's
start_log and where_is). The scripts themselves build and run for minutes, so their calls are
checked as written, and the two functions on a script of a few lines."""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(ROOT, "scripts")


@pytest.mark.parametrize("script", ["demo.sh", "test.sh", "bench.sh"])
def test_every_command_logs_and_says_where_its_outputs_are(script):
    with open(os.path.join(SCRIPTS, script)) as f:
        text = f.read()
    name = script[:-len(".sh")]
    assert re.search(rf"^start_log {name}$", text, re.M), f"{script} does not call start_log"
    said = set(re.findall(r'^\s*where_is "([^"]+)"', text, re.M))
    assert {"plot", "benchmark JSON"} <= said, (script, said)  # start_log adds "log"


def test_the_log_and_the_where_lines(tmp_path):
    build = tmp_path / "build"
    script = tmp_path / "try.sh"
    script.write_text(f"""
source {os.path.join(SCRIPTS, "common.sh")!s}
start_log try
where_is "plot" "$BUILD_DIR/plot.png" "a figure"
where_is "benchmark JSON" "$BUILD_DIR/benchmarks"
echo out
echo err >&2
touch "$BUILD_DIR/plot.png"
exit 3
""")
    env = dict(os.environ, TWOLAYER_BUILD_DIR=str(build))
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True,
                          timeout=120)
    # The status is the script's own; stdout and stderr each keep their lines.
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr == "err\n"
    log = build / "logs" / "try.log"
    assert done.stdout.splitlines() == [
        "out",
        "",
        f"log: {log} (everything printed above)",
        f"plot: {build}/plot.png (a figure)",
        f"benchmark JSON: {build}/benchmarks (not written by this run)",
    ]
    # The log holds both streams and the where lines (stderr's lines where its tee wrote them,
    # which may be after stdout's last).
    logged = log.read_text().splitlines()
    assert "out" in logged and "err" in logged
    assert f"benchmark JSON: {build}/benchmarks (not written by this run)" in logged
