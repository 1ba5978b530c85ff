#!/usr/bin/python3
"""Executes vaexp's notebooks headless against the gonb kernel, as Jupyter would.

    /usr/bin/python3 notebooks/run_all.py [--out DIR] [--html] [--no-smoke] [NOTEBOOK ...]

Each notebook runs in a fresh gonb kernel through nbclient (the library under
`jupyter nbconvert --execute`), with a per-cell timeout, VAEXP_SMOKE=1 (small
budgets) unless --no-smoke, and its own empty tracker database and runs folder
under DIR/<notebook>/ (VAEXP_DB, VAEXP_RUNS). The executed notebook is written to
DIR/<notebook>.ipynb (and .html with --html), the kernel's log to
DIR/<notebook>/kernel.log. Any cell error or timeout fails the notebook; the exit
status is non-zero if any notebook failed. A table of run times ends the output
and is kept in DIR/times.tsv.

Run it with Debian's /usr/bin/python3: a pyenv python3 earlier on PATH lacks nbformat.
"""
import argparse
import glob
import os
import re
import shutil
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

HERE = os.path.dirname(os.path.abspath(__file__))


def first_code_cell(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            return cell
    return None


# stderr text that means a cell failed to show what it meant to, though it exited 0:
# gonbui logs a broken display pipe and carries on.
BROKEN_DISPLAY = re.compile(r"failed to write to GoNB pipe|gonbui\.go:\d+\]")


def error_outputs(nb):
    """Yields (cell index, text) for every error output left in the notebook, and
    for every stderr output that shows a display failed."""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                yield i, "%s: %s" % (out.get("ename"), out.get("evalue"))
            elif out.get("output_type") == "stream" and out.get("name") == "stderr" and BROKEN_DISPLAY.search(out.get("text", "")):
                yield i, "display failed: " + out["text"].strip()[:500]


def run(path, args):
    name = os.path.splitext(os.path.basename(path))[0]
    work = os.path.join(args.out, name)
    # A fresh database and runs folder: a run folder left from an earlier
    # execution would be taken for the new run's (its ids restart at 1).
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.environ["VAEXP_DB"] = os.path.join(work, "vaexp.db")
    os.environ["VAEXP_RUNS"] = os.path.join(work, "runs")
    if args.smoke:
        os.environ["VAEXP_SMOKE"] = "1"
    else:
        os.environ.pop("VAEXP_SMOKE", None)

    nb = nbformat.read(path, as_version=4)
    first = first_code_cell(nb)
    # The first cell compiles the project's packages for the kernel: on a cold
    # build cache that is minutes on 2 cores, so it gets its own timeout.
    timeout_for = lambda cell: args.first_timeout if cell is first else args.timeout
    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        timeout_func=timeout_for,
        startup_timeout=120,
        resources={"metadata": {"path": HERE}},
        record_timing=True,
    )
    began = time.time()
    failure = None
    with open(os.path.join(work, "kernel.log"), "w") as log:
        try:
            client.execute(stderr=log, stdout=log)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
            failure = "%s: %s" % (type(e).__name__, str(e).strip()[-3000:])
    seconds = time.time() - began
    errors = list(error_outputs(nb))
    if errors:
        # The cell's stderr holds the panic or compile error; nbclient's message only says "exit status 2".
        failure = "\n".join("cell %d: %s\n%s" % (i, text, stderr_of(nb.cells[i])) for i, text in errors)
    out_nb = os.path.join(args.out, name + ".ipynb")
    nbformat.write(nb, out_nb)
    if args.html:
        from nbconvert import HTMLExporter

        html, _ = HTMLExporter().from_notebook_node(nb)
        with open(os.path.join(args.out, name + ".html"), "w") as f:
            f.write(html)
    slowest = max(
        ((cell_seconds(c), i) for i, c in enumerate(nb.cells) if c.cell_type == "code"),
        default=(0, -1),
    )
    return name, seconds, slowest, failure


def stderr_of(cell):
    text = "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stderr")
    return re.sub(r"\x1b\[[0-9;]*m", "", text).strip()[-3000:]


def cell_seconds(cell):
    t = cell.get("metadata", {}).get("execution", {})
    try:
        from datetime import datetime

        a = datetime.fromisoformat(t["iopub.execute_input"].replace("Z", "+00:00"))
        b = datetime.fromisoformat(t["shell.execute_reply"].replace("Z", "+00:00"))
        return (b - a).total_seconds()
    except (KeyError, ValueError):
        return 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help="default: notebooks/[0-9]*.ipynb")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "out", "notebooks"), help="default: out/notebooks")
    ap.add_argument("--kernel", default="gonb")
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("VAEXP_CELL_TIMEOUT", "600")),
                    help="seconds per cell (default 600, or $VAEXP_CELL_TIMEOUT)")
    ap.add_argument("--first-timeout", type=int, default=1800, help="seconds for each notebook's first cell")
    ap.add_argument("--html", action="store_true", help="also export each executed notebook to HTML")
    ap.add_argument("--no-smoke", dest="smoke", action="store_false", help="the notebooks' real budgets")
    args = ap.parse_args()
    args.out = os.path.abspath(args.out)
    os.makedirs(args.out, exist_ok=True)
    paths = args.notebooks or sorted(glob.glob(os.path.join(HERE, "[0-9]*.ipynb")))
    if not paths:
        sys.exit("run_all: no notebooks found")

    results = []
    for p in paths:
        print("executing %s ..." % os.path.basename(p), flush=True)
        r = run(p, args)
        results.append(r)
        name, seconds, (slow_s, slow_i), failure = r
        print("  %s in %.0f s (slowest cell %d: %.0f s)" % ("FAILED" if failure else "ok", seconds, slow_i, slow_s), flush=True)
        if failure:
            print("  " + failure.replace("\n", "\n  "), flush=True)

    with open(os.path.join(args.out, "times.tsv"), "w") as f:
        f.write("notebook\tseconds\tstatus\n")
        for name, seconds, _, failure in results:
            f.write("%s\t%.1f\t%s\n" % (name, seconds, "failed" if failure else "ok"))
    print("\n%-28s %8s  %s" % ("notebook", "seconds", "status"))
    for name, seconds, _, failure in results:
        print("%-28s %8.0f  %s" % (name, seconds, "FAILED" if failure else "ok"))
    print("executed notebooks in %s" % args.out)
    sys.exit(1 if any(r[3] for r in results) else 0)


if __name__ == "__main__":
    main()
