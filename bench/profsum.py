"""Summarise py-spy's collapsed stacks (``bench/load.py --profile DIR`` writes them).

    .venv/bin/python bench/profsum.py FILE [FILE ...] [--top 25] [--match NAME ...] [--threads]

Prints, for the samples of the given files: the share of samples per thread kind, the functions
with the most samples on top of the stack (self), and the inclusive share of every frame whose
text contains one of ``--match`` (e.g. ``--match render player_state _pick_seat``). Recorded with
``PYSPY_GIL=1`` only the thread holding the GIL is sampled, so shares are shares of the worker's
CPU; otherwise idle threads count too.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

THREAD_RE = re.compile(r"^thread \(\d+\)(?:: (?P<name>[^;]*))?;?")
FRAME_RE = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def parse(path: Path):
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        thread = "?"
        m = THREAD_RE.match(stack)
        if m:
            thread = re.sub(r"[-_]\d+(_\d+)?$", "", m.group("name") or "main")
            stack = stack[m.end() :]
        frames = [f for f in stack.split(";") if f]
        yield thread, frames, int(n)


def short(frame: str) -> str:
    m = FRAME_RE.match(frame)
    if not m:
        return frame
    f = m.group("file")
    for cut in ("site-packages/", "python3.11/", "wt16/", "/work/"):
        if cut in f:
            f = f.split(cut, 1)[1]
    return f"{m.group('func')} ({f})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--match", nargs="*", default=[])
    ap.add_argument(
        "--bucket",
        nargs="*",
        default=[],
        help="patterns in order: each sample counts once, for the first pattern found in its stack",
    )
    ap.add_argument(
        "--tree", default=None, help="print the call tree below the first frame containing this text"
    )
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--min", type=float, default=1.0, help="tree: hide branches under this %% of all samples")
    a = ap.parse_args(argv)
    tree: dict = {}
    total = 0
    threads: Counter[str] = Counter()
    selfs: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    buckets: Counter[str] = Counter()
    for path in a.files:
        for thread, frames, n in parse(path):
            total += n
            threads[thread] += n
            if frames:
                selfs[short(frames[-1])] += n
            text = ";".join(frames)
            if a.tree is not None:
                at = next((k for k, f in enumerate(frames) if a.tree in f), None)
                if at is not None:
                    node = tree
                    for f in frames[at : at + a.depth + 1]:
                        entry = node.setdefault(short(f), [0, {}])
                        entry[0] += n
                        node = entry[1]
            if a.bucket:
                buckets[next((p for p in a.bucket if p in text), "(other)")] += n
            seen = set()
            for pat in a.match:
                if any(pat in f for f in frames) and pat not in seen:
                    incl[pat] += n
                    seen.add(pat)
    if not total:
        print("no samples")
        return 1
    print(f"{total} samples")
    print("\nby thread:")
    for t, n in threads.most_common(10):
        print(f"  {100 * n / total:5.1f}%  {t}")
    if a.match:
        print("\ninclusive (a frame containing the text anywhere in the stack):")
        for pat in a.match:
            print(f"  {100 * incl[pat] / total:5.1f}%  {pat}")
    if a.bucket:
        print("\nbuckets (first pattern found in the stack):")
        for pat in [*a.bucket, "(other)"]:
            print(f"  {100 * buckets[pat] / total:5.1f}%  {pat}")
    if a.tree is not None:
        print(f"\ncall tree below {a.tree!r} (% of all samples):")

        def show(node: dict, indent: int) -> None:
            for name, (n, kids) in sorted(node.items(), key=lambda kv: -kv[1][0]):
                if 100 * n / total >= a.min:
                    print(f"  {100 * n / total:5.1f}%  {'  ' * indent}{name}")
                    show(kids, indent + 1)

        show(tree, 0)
    print(f"\ntop {a.top} on top of the stack (self):")
    for f, n in selfs.most_common(a.top):
        print(f"  {100 * n / total:5.1f}%  {f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
