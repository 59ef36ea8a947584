"""What `import twolayer` alone gives a user, in a fresh interpreter: the other tests import
submodules themselves, which would hide a package that forgets to."""
import subprocess
import sys


def test_datasets_is_there_after_import_twolayer():
    code = ("import twolayer\n"
            "X, Y = twolayer.datasets.flower(seed=1)\n"
            "assert X.shape == (400, 2) and Y.shape == (400, 1), (X.shape, Y.shape)\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
