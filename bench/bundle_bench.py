"""Figures for the desktop bundle (issue 14): its size and what takes it, the frozen app's start
to a populated window on the big database, and the frozen self-test's time.

Prints figures; never asserts. Usage:

    python bench/bundle_bench.py [--bundle dist/Rapport] [--db PATH] [--runs 5]

Builds the bundle with build.spec when ``--bundle`` does not exist (minutes), and the
100,000-contact database as bench/run.py does when ``--db`` does not. Targets: start < 2 s,
bundle < 150 MB unpacked, self-test < 10 s. Figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# bench/run.py: the same database and the same start probe as the from-source figures.
from run import ROOT, build, data_set_arguments, startup

MB = 1024 * 1024


def ensure_bundle(folder: Path) -> Path:
    executable = folder / ("rapport.exe" if sys.platform == "win32" else "rapport")
    if executable.exists():
        return executable
    print(f"building the bundle into {folder.parent} …", flush=True)
    started = time.perf_counter()
    pyinstaller = Path(sys.executable).parent / "pyinstaller"
    subprocess.run(
        [
            str(pyinstaller),
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(folder.parent),
            str(ROOT / "build.spec"),
        ],
        cwd=ROOT,
        check=True,
    )
    print(f"  built in {time.perf_counter() - started:.0f} s")
    return executable


def _group(relative: Path) -> str:
    """Which part of the app a file belongs to, for the size table."""
    parts = relative.parts
    if parts[0] != "_internal":
        return "the executable (bootloader + every Python module, compressed)"
    inner = parts[1:]
    name = inner[-1]
    if inner[0] == "PySide6":
        if "libicu" in name:
            return "Qt: ICU (Unicode and locale data Qt Core links to)"
        if len(inner) > 2 and inner[1] == "Qt" and inner[2] == "lib":
            return "Qt: libraries (Core, Gui, Widgets, Network, PrintSupport, Svg, X11/Wayland)"
        if len(inner) > 2 and inner[1] == "Qt" and inner[2] == "plugins":
            return "Qt: plugins (platforms, image formats, printing, input methods)"
        return "PySide6: the Python bindings"
    if len(inner) == 1 and name.startswith("libpython"):
        return "Python: the interpreter"
    if inner[0] in ("python3.11", "base_library.zip") or inner[0].startswith("python3"):
        return "Python: standard library"
    if inner[0] == "cryptography":
        return "cryptography (the Linux keychain's encrypted session: SecretStorage)"
    if len(inner) == 1 and ".so" in name:
        return "system libraries Qt's plugins link to (X11, fonts, CUPS printing, glib, TLS)"
    return f"packages: {inner[0]}" if len(inner) > 1 else "other files"


def sizes(folder: Path) -> tuple[int, Counter[str], list[tuple[int, str]]]:
    groups: Counter[str] = Counter()
    files: list[tuple[int, str]] = []
    total = 0
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        size = path.stat().st_size
        total += size
        relative = path.relative_to(folder)
        groups[_group(relative)] += size
        files.append((size, str(relative)))
    files.sort(reverse=True)
    return total, groups, files


def children_cpu() -> float:
    """CPU seconds used by finished child processes: on a shared machine the wall clock
    measures the other sessions too, the CPU time only this app."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_test_times(executable: Path, runs: int) -> list[float]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [str(executable), "--self-test"], env=env, capture_output=True, text=True, timeout=300
        )
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            print(f"the self-test FAILED:\n{done.stderr}")
            break
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "Rapport")
    data_set_arguments(parser)
    args = parser.parse_args()
    executable = ensure_bundle(args.bundle)

    total, groups, files = sizes(args.bundle)
    print(f"bundle {args.bundle}: {total / MB:.0f} MB unpacked (target < 150 MB), {len(files)} files")
    for group, size in groups.most_common():
        print(f"  {size / MB:6.1f} MB  {group}")
    print("  largest files:")
    for size, name in files[:10]:
        print(f"  {size / MB:6.1f} MB  {name}")

    cpu = children_cpu()
    times = self_test_times(executable, max(1, args.runs // 2 + 1))
    print(
        f"frozen --self-test, process start to exit ({len(times)} runs): "
        f"median {statistics.median(times):.1f} s, max {max(times):.1f} s (target < 10 s); "
        f"CPU {(children_cpu() - cpu) / len(times):.1f} s a run"
    )

    args.db.parent.mkdir(parents=True, exist_ok=True)
    build(args.db, args.contacts, args.notes_per_contact)
    cpu = children_cpu()
    launch = startup(args.db, args.runs, app=[str(executable)])
    if launch:
        print(
            f"frozen app, launch to contact list populated on {args.db.name} ({len(launch)} runs): "
            f"median {statistics.median(launch):.2f} s, max {max(launch):.2f} s (target < 2 s); "
            f"CPU {(children_cpu() - cpu) / len(launch):.1f} s a run (to the window and closing it)"
        )
    else:
        print("the frozen app never reported its contact list (see its log under the data folder)")


if __name__ == "__main__":
    main()
