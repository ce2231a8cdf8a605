"""``deuteron cache``: list, show, export, import and prune the shared tuning cache's entries.

    deuteron cache list   [--store URL] [--json]
    deuteron cache show   KEY [--store URL]
    deuteron cache export [-o FILE] [--kernel NAME] [--store URL]
    deuteron cache import FILE [--store URL]
    deuteron cache prune  [--version NAME=VER ...] [--dry-run] [--store URL]

The store is ``--store`` or the ``tuning_cache`` setting (``DEUTERON_TUNING_CACHE``).
An export is one JSON document of records; importing checks every record as
a lookup does (format, hashes, configs) and keeps the better of the imported
and the stored result, so a CI job can tune, export, and ship the file with an
application, whose deployment imports it into its own store.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Sequence, TextIO

from ..exc import TuningCacheError
from ..runtime.settings import Settings
from .cache import versions
from .store_url import open_store
from .tuning_record import RecordError, better, dump_record, parse_record, rank
from .tuning_store import Store, StoreUnavailable

__all__ = ["main", "HELP", "EXPORT_FORMAT"]

EXPORT_FORMAT = "deuteron.tuning-export/1"
_MAX_IMPORT_BYTES = 256 << 20

HELP = """\
usage: deuteron cache list   [--store URL] [--json]
       deuteron cache show   KEY [--store URL]
       deuteron cache export [-o FILE] [--kernel NAME] [--store URL]
       deuteron cache import FILE [--store URL]
       deuteron cache prune  [--version NAME=VER ...] [--dry-run] [--store URL]

The shared tuning cache (docs/autotuning.md).  The store is --store URL or
DEUTERON_TUNING_CACHE: redis://host:port/db, file:///path or a path.

  list     one line per entry: key, kernel, arguments, GPU, effort, best time, versions
  show     the whole record of one entry (KEY or a unique prefix of it)
  export   write every entry (or one kernel's) to FILE (default: stdout) as JSON
  import   add the entries of an export; a stored result that is better is kept
  prune    remove entries made by other versions of deuteron, triton or torch than
           the installed ones (or, with --version NAME=VER, those made by that
           version) and entries that are not valid records
"""


class CacheCommandError(Exception):
    pass


def _parse(argv: Sequence[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {"store": None, "json": False, "out": None, "kernel": None, "versions": [],
                            "dry_run": False, "positional": []}
    i = 0
    while i < len(argv):
        a = argv[i]
        flag, eq, inline = a.partition("=") if a.startswith("--") else (a, "", "")

        def value() -> str:
            nonlocal i
            if eq:
                return inline
            if i + 1 >= len(argv):
                raise CacheCommandError(f"{flag} needs a value")
            i += 1
            return argv[i]

        if flag in ("-h", "--help"):
            opts["help"] = True
        elif flag == "--store":
            opts["store"] = value()
        elif flag == "--json":
            opts["json"] = True
        elif flag in ("-o", "--out"):
            opts["out"] = value()
        elif flag == "--kernel":
            opts["kernel"] = value()
        elif flag == "--version":
            v = value()
            name, _, ver = v.partition("=")
            if not name or not ver:
                raise CacheCommandError(f"--version {v!r}: expected NAME=VERSION, e.g. triton=3.5.0")
            opts["versions"].append((name.strip(), ver.strip()))
        elif flag == "--dry-run":
            opts["dry_run"] = True
        elif a.startswith("-") and a != "-":
            raise CacheCommandError(f"unknown option {a}")
        else:
            opts["positional"].append(a)
        i += 1
    return opts


def _store(opts: dict[str, Any]) -> Store:
    url = opts["store"] or Settings().tuning_cache
    if not url:
        raise CacheCommandError("no shared tuning cache: pass --store URL or set DEUTERON_TUNING_CACHE")
    return open_store(url)


def _entries(store: Store) -> tuple[dict[str, dict[str, Any]], list[tuple[str, str]]]:
    """The best valid record of each key, and (key, why) for what is not a valid record."""
    best: dict[str, dict[str, Any]] = {}
    bad: list[tuple[str, str]] = []
    for key, data in store.scan():
        try:
            record = parse_record(data)
            if record["key"] != key:
                raise RecordError("stored under another key than its own (foreign)")
        except RecordError as e:
            bad.append((key, str(e)))
            continue
        if key not in best or better(record, best[key]):
            best[key] = record
    return best, bad


def _args_text(record: dict[str, Any]) -> str:
    parts = []
    for arg in record["material"]["shape"].get("args", []):
        if not isinstance(arg, dict):
            continue
        if arg.get("kind") == "tensor":
            sizes = ",".join(str(s) for s in arg.get("sizes", []))
            parts.append(f"{arg.get('dtype')}[{sizes}]")
        elif arg.get("kind") == "constexpr":
            parts.append(repr(arg.get("value")))
        else:
            parts.append(str(arg.get("kind")))
    return " ".join(parts)


def _line(record: dict[str, Any]) -> str:
    fam = record["material"]["family"]
    device = fam.get("device", {}) if isinstance(fam.get("device"), dict) else {}
    vers = fam.get("versions", {}) if isinstance(fam.get("versions"), dict) else {}
    ver_text = " ".join(f"{k} {v}" for k, v in sorted(vers.items()))
    t = record["tuning"]
    return (f"{record['key'][:16]}  {record['kernel']}  {_args_text(record)}  on {device.get('model', '?')}  "
            f"{t['effort']}  {record['seconds'] * 1e3:.4g} ms  ({ver_text})")


def _find(store: Store, prefix: str) -> dict[str, Any]:
    best, _ = _entries(store)
    matches = [k for k in best if k.startswith(prefix.lower())]
    if not matches:
        raise CacheCommandError(f"no valid entry with a key starting {prefix!r}")
    if len(matches) > 1:
        raise CacheCommandError(f"{len(matches)} entries have keys starting {prefix!r}; give more of the key")
    return best[matches[0]]


def _outdated(record: dict[str, Any], wanted: list[tuple[str, str]]) -> bool:
    vers = record["material"]["family"].get("versions", {})
    if not isinstance(vers, dict):
        return True
    if wanted:
        return any(vers.get(name) == ver for name, ver in wanted)
    current = versions()
    return any(vers.get(name) != ver for name, ver in current.items())


def _import(store: Store, path: str, out: TextIO) -> int:
    if path == "-":
        text = sys.stdin.read(_MAX_IMPORT_BYTES + 1)
    else:
        p = Path(path)
        if not p.is_file():
            raise CacheCommandError(f"{path}: no such file")
        if p.stat().st_size > _MAX_IMPORT_BYTES:
            raise CacheCommandError(f"{path}: larger than {_MAX_IMPORT_BYTES >> 20} MiB")
        text = p.read_text(encoding="utf-8", errors="replace")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise CacheCommandError(f"{path}: not JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT or not isinstance(doc.get("entries"), list):
        raise CacheCommandError(f"{path}: not a deuteron tuning cache export ({EXPORT_FORMAT})")
    stored = kept = rejected = 0
    for i, entry in enumerate(doc["entries"]):
        try:
            record = parse_record(json.dumps(entry, allow_nan=False))
        except (RecordError, ValueError, TypeError) as e:
            rejected += 1
            print(f"deuteron cache import: entry {i} rejected: {e}", file=sys.stderr)
            continue

        def is_better(existing: bytes | None, record: dict[str, Any] = record) -> bool:
            if existing is None:
                return True
            try:
                old = parse_record(existing)
            except RecordError:
                return True
            return old["key"] != record["key"] or better(record, old)

        if store.put_if_better(record["family"], record["key"], dump_record(record), is_better):
            stored += 1
        else:
            kept += 1
    print(f"deuteron cache import: {stored} stored, {kept} kept (the store's result was as good or better), "
          f"{rejected} rejected", file=out)
    return 1 if rejected and not stored and not kept else 0


def main(argv: Sequence[str], out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        if not argv or argv[0] in ("-h", "--help", "help"):
            print(HELP, end="", file=out)
            return 0 if argv else 2
        command, opts = argv[0], _parse(argv[1:])
        if opts.get("help"):
            print(HELP, end="", file=out)
            return 0
        if command not in ("list", "show", "export", "import", "prune"):
            raise CacheCommandError(f"unknown command {command!r} (list, show, export, import, prune)")
        store = _store(opts)
        try:
            return _run(command, opts, store, out)
        finally:
            store.close()
    except (CacheCommandError, TuningCacheError) as e:
        print(f"deuteron cache: error: {e}", file=sys.stderr)
        return 2
    except StoreUnavailable as e:
        print(f"deuteron cache: error: the store cannot be reached: {e}", file=sys.stderr)
        return 1


def _run(command: str, opts: dict[str, Any], store: Store, out: TextIO) -> int:
    pos = opts["positional"]
    if command == "list":
        best, bad = _entries(store)
        records = sorted(best.values(), key=lambda r: (r["kernel"], r["key"]))
        if opts["json"]:
            print(json.dumps([{"key": r["key"], "kernel": r["kernel"], "args": _args_text(r),
                               "device": r["material"]["family"].get("device"), "tuning": r["tuning"],
                               "seconds": r["seconds"], "config": r["config"],
                               "versions": r["material"]["family"].get("versions")} for r in records],
                             indent=1), file=out)
        else:
            for r in records:
                print(_line(r), file=out)
            for key, why in bad:
                print(f"{key[:16]}  <not a valid record: {why}>", file=out)
            print(f"{len(records)} entries" + (f", {len(bad)} invalid" if bad else ""), file=out)
        return 0
    if command == "show":
        if len(pos) != 1:
            raise CacheCommandError("show needs one KEY (or a unique prefix of it)")
        print(json.dumps(_find(store, pos[0]), indent=1, sort_keys=True), file=out)
        return 0
    if command == "export":
        best, _ = _entries(store)
        records = sorted((r for r in best.values() if opts["kernel"] in (None, r["kernel"])),
                         key=lambda r: (r["kernel"], r["key"]))
        text = json.dumps({"format": EXPORT_FORMAT, "entries": records}, indent=1, allow_nan=False) + "\n"
        if opts["out"] and opts["out"] != "-":
            Path(opts["out"]).write_text(text, encoding="utf-8")
            print(f"deuteron cache export: {len(records)} entries to {opts['out']}", file=sys.stderr)
        else:
            out.write(text)
        return 0
    if command == "import":
        if len(pos) != 1:
            raise CacheCommandError("import needs one FILE (an export; - for stdin)")
        return _import(store, pos[0], out)
    # prune
    best, bad = _entries(store)
    doomed = [(r["key"], r["family"], _line(r)) for r in best.values() if _outdated(r, opts["versions"])]
    # An invalid file beside a valid record of its key (a shared directory) is left to the next writer.
    doomed += [(key, None, f"{key[:16]}  <not a valid record: {why}>") for key, why in bad if key not in best]
    for key, family, line in doomed:
        if not opts["dry_run"]:
            store.delete(key, family)
        print(("would remove " if opts["dry_run"] else "removed ") + line, file=out)
    print(f"deuteron cache prune: {'would remove' if opts['dry_run'] else 'removed'} {len(doomed)} of "
          f"{len(best) + len(bad)} entries", file=out)
    return 0
