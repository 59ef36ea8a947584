"""Every code block of README.md, CONTRIBUTING.md and docs/*.md is executed, so that the
documentation shows what the software does now.

- ```python blocks run in a fresh Python (this interpreter) whose working folder is a temporary
  folder of their document; a document's blocks run in order in that one folder, so a later block
  may use what an earlier one wrote (the deploy recipe saves a model that C++ then loads).
- ```cpp blocks are compiled as main.cpp of a CMake project against the installed package (the
  document's ```cmake block is that project's CMakeLists.txt, or is added to a minimal one), then
  run in the document's folder after its earlier blocks. They take a minute or more each: slow.
- ```sh / ```bash blocks run with bash in the document's folder, `python` on PATH being this
  interpreter. Most install or build things, and say so with the marker below.
- ```text blocks are output or messages, not code.

A block that is not meant to run says so on the line just before its fence:

    <!-- not-run: the reason -->

and is reported as skipped, with that reason, under its own name (document:line:language).
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch

import twolayer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

RUNS = ("python", "cpp", "cmake", "sh", "bash")
PROSE = ("text",)
NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(.*?)\s*-->$")
FENCE = re.compile(r"^```(\S*)\s*$")
ANY_MARKER = re.compile(r"^\s*<!--\s*not-run")


class Block:
    def __init__(self, doc, line, language, code, not_run):
        self.doc, self.line, self.language, self.code, self.not_run = (
            doc, line, language, code, not_run)

    @property
    def name(self):
        return f"{self.doc}:{self.line}:{self.language or 'none'}"


def documents():
    paths = [os.path.join(REPO, "README.md"), os.path.join(REPO, "CONTRIBUTING.md")]
    paths += sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))
    return [os.path.relpath(p, REPO) for p in paths if os.path.isfile(p)]


def parse(doc):
    """The fenced blocks of one document, and the problems of its markers."""
    with open(os.path.join(REPO, doc), encoding="utf-8") as f:
        lines = f.read().splitlines()
    blocks, problems = [], []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            if ANY_MARKER.search(lines[i]):
                marker = NOT_RUN.match(lines[i].strip())
                follows = i + 1 < len(lines) and FENCE.match(lines[i + 1])
                if not marker or not marker.group(1):
                    problems.append(f"{doc}:{i + 1}: a not-run marker needs a reason: "
                                    "<!-- not-run: the reason -->")
                elif not follows:
                    problems.append(f"{doc}:{i + 1}: a not-run marker must stand on the line "
                                    "just before a fence")
            i += 1
            continue
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            problems.append(f"{doc}:{start + 1}: a fence that is never closed")
        marker = NOT_RUN.match(lines[start - 1].strip()) if start > 0 else None
        blocks.append(Block(doc, start + 1, fence.group(1).lower(), "\n".join(body) + "\n",
                            (marker.group(1) or None) if marker else None))
        i += 1
    return blocks, problems


def all_blocks():
    return [b for doc in documents() for b in parse(doc)[0]]


BLOCKS = all_blocks()


# ---------------------------------------------------------------------------------------------
# Running blocks, document by document, in one folder per document
# ---------------------------------------------------------------------------------------------

def _environment():
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    env["TWOLAYER_REPO"] = REPO
    return env


def _run(block, folder):
    """Runs one python or shell block in folder; returns (ok, output)."""
    if block.language == "python":
        script = os.path.join(folder, f"block_{block.line}.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(block.code)
        command = [sys.executable, script]
    else:
        command = ["bash", "-euo", "pipefail", "-c", block.code]
    done = subprocess.run(command, cwd=folder, env=_environment(), capture_output=True,
                          text=True, timeout=900)
    return done.returncode == 0, (done.stdout + done.stderr)[-6000:]


class Session:
    """The folder of one document and how far its blocks have run in it."""

    def __init__(self, folder):
        self.folder = folder
        self.done = set()
        self.failed = None

    def run_before(self, block):
        """Runs the document's runnable python and shell blocks before `block`, in order."""
        for earlier in parse(block.doc)[0]:
            if earlier.line >= block.line:
                break
            if earlier.not_run or earlier.language not in ("python", "sh", "bash"):
                continue
            if earlier.line in self.done:
                continue
            ok, output = _run(earlier, self.folder)
            self.done.add(earlier.line)
            if not ok:
                self.failed = earlier.name
                pytest.fail(f"{earlier.name}, run before {block.name}, failed:\n{output}")
        if self.failed:
            pytest.fail(f"{self.failed} failed, and {block.name} runs after it in one folder")


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    made = {}

    def session(doc):
        if doc not in made:
            made[doc] = Session(str(tmp_path_factory.mktemp(re.sub(r"\W", "_", doc))))
        return made[doc]
    return session


def _cmake_lists(block):
    """The CMakeLists.txt for a cpp block: its document's cmake block, whole if it names a
    project, else added to a minimal project of the executable my_app."""
    cmake = [b for b in parse(block.doc)[0] if b.language == "cmake" and not b.not_run]
    head = textwrap.dedent("""\
        cmake_minimum_required(VERSION 3.18)
        project(my_app LANGUAGES CXX)
        add_executable(my_app main.cpp)
        """)
    if not cmake:
        return head + ("find_package(TwoLayer CONFIG REQUIRED)\n"
                       "target_link_libraries(my_app PRIVATE TwoLayer::twolayer)\n")
    if "project(" in cmake[0].code:
        return cmake[0].code
    return head + cmake[0].code


def _cpp_unavailable():
    if shutil.which("cmake") is None:
        return "cmake is not on PATH"
    if not any(shutil.which(c) for c in ("c++", "g++", "clang++")):
        return "no C++ compiler on PATH"
    if not os.path.isfile(os.path.join(twolayer.cmake_prefix_path, "TwoLayer",
                                       "TwoLayerConfig.cmake")):
        return f"the installed package has no CMake package in {twolayer.cmake_prefix_path}"
    return None


def _build_and_run(block, session, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.cpp").write_text(block.code)
    (project / "CMakeLists.txt").write_text(_cmake_lists(block))
    build = tmp_path / "build"
    # The prefixes the README gives C++ users of the Python package.
    prefix = f"{torch.utils.cmake_prefix_path};{twolayer.cmake_prefix_path}"
    for args in (["-S", str(project), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                  f"-DCMAKE_PREFIX_PATH={prefix}"],
                 ["--build", str(build), "-j", str(os.cpu_count() or 2)]):
        done = subprocess.run(["cmake", *args], capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, (f"{block.name} does not build:\n"
                                      + done.stdout[-4000:] + done.stderr[-4000:])
    session.run_before(block)
    done = subprocess.run([str(build / "my_app")], cwd=session.folder, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{block.name} exited {done.returncode}:\n" + (
        done.stdout + done.stderr)[-6000:]


def _params(blocks):
    params = []
    for b in blocks:
        marks = [pytest.mark.slow] if b.language == "cpp" and not b.not_run else []
        params.append(pytest.param(b, id=b.name, marks=marks))
    return params


@pytest.mark.parametrize("block", _params(BLOCKS))
def test_block(block, sessions, tmp_path):
    if block.not_run:
        pytest.skip(f"{block.name} not-run: {block.not_run}")
    if block.language in PROSE:
        return
    assert block.language in RUNS, (
        f"{block.name}: a ```{block.language} block cannot be run; use ```text for output, or "
        "mark it with <!-- not-run: the reason --> on the line before its fence")
    session = sessions(block.doc)
    if block.language == "cmake":
        cpp = [b for b in parse(block.doc)[0] if b.language == "cpp" and not b.not_run]
        assert cpp, f"{block.name}: a cmake block is built with its document's cpp block, and " \
                    "this document has none: mark it not-run"
        return   # built as the CMakeLists.txt of that block's project
    if block.language == "cpp":
        reason = _cpp_unavailable()
        if reason:
            pytest.skip(f"{block.name} cannot be built here: {reason}")
        _build_and_run(block, session, tmp_path)
        return
    session.run_before(block)
    ok, output = _run(block, session.folder)
    session.done.add(block.line)
    if not ok:
        session.failed = block.name
    assert ok, f"{block.name} failed:\n{output}"


def test_the_markers_are_well_formed():
    problems = [p for doc in documents() for p in parse(doc)[1]]
    assert not problems, "\n".join(problems)


def test_the_documents_are_found_and_have_blocks_that_run():
    docs = documents()
    for needed in ("README.md", "CONTRIBUTING.md", os.path.join("docs", "deploy.md"),
                   os.path.join("docs", "faq.md"), os.path.join("docs", "lecture.md")):
        assert needed in docs, needed
    runnable = [b for b in BLOCKS if not b.not_run and b.language in ("python", "cpp")]
    assert {b.doc for b in runnable} >= {"README.md", os.path.join("docs", "deploy.md")}


def test_the_readme_quickstarts_are_short_and_in_the_first_screen():
    readme = [b for b in BLOCKS if b.doc == "README.md"]
    python = next(b for b in readme if b.language == "python")
    cpp = next(b for b in readme if b.language == "cpp")
    assert not python.not_run and not cpp.not_run
    assert python.code.count("\n") <= 15 and cpp.code.count("\n") <= 20
    assert python.line < 60
    assert python.code.splitlines()[0] == "import torch, twolayer"


def test_the_parser_sees_markers_fences_and_languages(tmp_path, monkeypatch):
    # The collection itself must be able to fail: a marker without a fence, a marker without a
    # reason, an unclosed fence.
    doc = tmp_path / "doc.md"
    doc.write_text(textwrap.dedent("""\
        <!-- not-run: needs the network -->
        ```sh
        pip install x
        ```
        <!-- not-run: -->
        ```python
        print(1)
        ```
        <!-- not-run: stray -->

        ```cpp
        int main() {}
        """))
    monkeypatch.setattr(sys.modules[__name__], "REPO", str(tmp_path))
    blocks, problems = parse("doc.md")
    assert [(b.line, b.language, b.not_run) for b in blocks] == [
        (2, "sh", "needs the network"), (6, "python", None), (11, "cpp", None)]
    assert len(problems) == 3, problems
