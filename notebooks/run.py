#!/usr/bin/env python3
"""Executes notebooks cell by cell with the tslab kernel, over nbclient.

Fails on any unexpected error and on any cell the kernel did not run (status "aborted":
tslab aborts requests that arrive within ~200 ms of a failed one, which nbconvert
reports as a bare "<Error>:" or, with --allow-errors, not at all). A cell tagged
`raises-exception` must raise. Prints the failing cell's source and output, and the
time per notebook. With --write, saves the executed notebooks in place (outputs kept).

usage: run.py [--write] [--timeout S] NOTEBOOK...
"""
import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

# After a cell that raised, tslab aborts requests arriving within ~200 ms; wait past that.
AFTER_ERROR_WAIT_S = 0.6


def text_of(outputs):
    parts = []
    for o in outputs:
        if o.get("output_type") == "stream":
            parts.append(o.get("text", ""))
        elif o.get("output_type") == "error":
            parts.append(f"{o.get('ename')}: {o.get('evalue')}\n" + "\n".join(o.get("traceback", [])))
        elif "data" in o:
            parts.append(o["data"].get("text/plain", "<" + ", ".join(o["data"]) + ">"))
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts)


def run(path: Path, write: bool, timeout: int):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="tslab", timeout=timeout, resources={"metadata": {"path": str(path.parent)}})
    failures = []
    start = time.monotonic()
    ran = 0
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            expects_error = "raises-exception" in cell.metadata.get("tags", [])
            replies = {}
            client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.__setitem__("r", execute_reply)
            # allow_errors: the runner, not nbclient, judges each reply below.
            client.allow_errors = True
            client.execute_cell(cell, index)
            ran += 1
            status = replies["r"]["content"]["status"] if "r" in replies else "no reply"
            problem = None
            if status == "aborted" or status == "no reply":
                problem = f"the kernel did not run it (status {status})"
            elif status == "error" and not expects_error:
                problem = "unexpected error"
            elif status != "error" and expects_error:
                problem = "tagged raises-exception but raised nothing"
            if status == "error":
                time.sleep(AFTER_ERROR_WAIT_S)
            if problem:
                failures.append((index, problem, cell))
                break  # later cells depend on this one
    seconds = time.monotonic() - start
    if write and not failures:
        nbformat.write(nb, path)
    return failures, seconds, ran


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="save the executed notebooks in place")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    ap.add_argument("notebooks", nargs="+", type=Path)
    args = ap.parse_args()
    passed = failed = 0
    for path in args.notebooks:
        failures, seconds, ran = run(path, args.write, args.timeout)
        if failures:
            failed += 1
            for index, problem, cell in failures:
                print(f"notebooks: {path.name} FAILED at cell {index}: {problem}", flush=True)
                print("---- source ----\n" + cell.source + "\n---- output ----\n" + text_of(cell.get("outputs", [])), flush=True)
        else:
            passed += 1
            print(f"notebooks: {path.name} ok, {ran} cells in {seconds:.1f} s", flush=True)
    print(f"notebooks: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
