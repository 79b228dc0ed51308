#!/usr/bin/python3
"""Turns Google Benchmark JSON (bench/results/*.json) into BENCHMARKS.md and one plot per kernel.

Benchmark names are `<kernel>/<impl>/<case>` (case may be empty or contain more slashes, e.g.
`utf8/avx2/cjk/65536`). Only the median aggregates are used. Throughput is GB/s when the
benchmark set bytes processed, millions of items per second (and ns per item) when it set items,
else nanoseconds per call. Ratios compare the best backend (the fastest ISA present: avx512vbmi > avx512 >
avx2 > sse42 > neon > scalar) with scalar and with every implementation that is not a backend
(ceilings, baselines, peers) in the same row: > 1 means the best backend is faster.

Usage: benchmarks_md.py RESULTS_DIR OUTPUT_MD   (plots go to RESULTS_DIR/<kernel>.png)
Also prints the tables to stdout: that is the backend comparison `tools/bench` shows.
"""

import json
import os
import re
import sys
from collections import OrderedDict

BACKENDS = ["scalar", "sse42", "avx2", "avx512", "avx512vbmi", "neon"]
BEST_ORDER = ["avx512vbmi", "avx512", "avx2", "sse42", "neon", "scalar"]

# What each kernel's table should be read against; kernels not listed get no note.
NOTES = {
    "mask_inplace": "In-place XOR unmasking. Ceiling: `xor_pass` (one plain XOR pass with a constant at the "
    "machine's widest vectors). Baseline: `bytes_loop` (`p[i] ^= key[i & 3]`, not vectorised). Peers: "
    "`beast` (Boost.Beast `mask_inplace`, default flags), `beast_native` (the same at `-O3 -march=native`).",
    "mask_copy": "Unmasking copy (src -> dst). Ceiling: `memcpy` (glibc).",
    "utf8": "UTF-8 validation (RFC 3629) of text payloads; cases are `<text>/<bytes>` (ascii; latin, about 40% "
    "2-byte; cjk, 3-byte; emoji, 4-byte; mixed), inputs rotating through many distinct texts. Ceiling of the ascii rows: "
    "`ascii_or_pass` (one OR-reduce pass over the same texts at that ISA's vector width, the read-once limit; "
    "the avx512 row serves avx512vbmi too). Peer: `beast` (Boost.Beast `check_utf8`).",
    "accept": "One Sec-WebSocket-Accept value (SHA-1 + base64 of a 24-character key), time per key. Peers: "
    "`openssl` (SHA1() + EVP_EncodeBlock), `openssl_evp` (EVP_Digest with the MD fetched once), `beast` "
    "(make_sec_ws_accept).",
    "accept_batch": "64 accept keys per call (multi-buffer SHA-1 where it beats SHA-NI one key at a time); "
    "millions of keys per second.",
    "base64_encode": "Base64 encoding of a 20-byte SHA-1 digest (bench_kernels), 1 KiB and 16 KiB (bench_accept). "
    "Peers: OpenSSL EVP_EncodeBlock, Beast.",
    "base64_decode": "Strict base64 decoding to 16 KiB (bytes counted: the decoded output). Peers: OpenSSL "
    "EVP_DecodeBlock, Beast.",
    "handshake_parse": "A full server handshake of a typical browser request: parse, validate, answer (101 "
    "with the accept key); millions of handshakes per second and ns per handshake.",
    "deflate": "permessage-deflate (RFC 7692): a compressed echo of JSON messages through two Connections in "
    "memory; one item = one round trip (client compresses and masks, server inflates, checks UTF-8 and compresses "
    "the echo, client inflates). `off`: not negotiated (the same path uncompressed); `l1`/`l6`: zlib level 1/6 "
    "with context takeover; `_reset`: server_ and client_no_context_takeover. Cases `chat` (chat events) and "
    "`trade` (market data) at 100 B..16 KiB, 256 distinct messages each. Peer: `beast_*`, Boost.Beast's "
    "websocket::stream pair with permessage_deflate (its own zlib port) in the same mode. Almost all the time is "
    "zlib's.",
    "broadcast": "One message to 10,000 in-memory server Connections (bench_broadcast), their output drained the way "
    "a server drains it (output_spans, then consume_output); millions of recipients per second and ns per "
    "recipient. `prepared`: one PreparedMessage queued by reference on every connection; `send_loop`: send_text on "
    "each, framing and copying the payload every time; `prepared_deflate`: one PreparedMessage to connections with "
    "permessage-deflate agreed without server context takeover, compressed once (by the first recipient) and queued "
    "by reference on every connection. Ratios against `send_loop`.",
    "frames": "A fixed stream of 1,000,000 masked client frames (2..125-byte payloads, 3% up to 1 KiB; text, "
    "binary, continuations, pings). `parse`: the header walk only; `receive`: Connection::receive with "
    "unmasking, UTF-8 and events. Millions of frames per second and ns per frame. Baseline: `plain_scalar`, a "
    "byte-by-byte header parser; peer: `beast`, websocket::stream reading from an in-memory stream.",
}


# Tables of modes rather than backends, each compared with a baseline mode in the same row: every mode
# gets its ns/item and its ratio against the baseline.
MODE_BASELINES = {"broadcast": "send_loop"}


def load(results_dir):
    """Returns (context, {kernel: {case: {impl: entry}}}) from every JSON file in results_dir."""
    context, kernels = {}, OrderedDict()
    for file in sorted(os.listdir(results_dir)):
        if not file.endswith(".json"):
            continue
        with open(os.path.join(results_dir, file)) as f:
            data = json.load(f)
        if "benchmarks" not in data:  # e2e.json: not Google Benchmark's
            continue
        context.setdefault("files", []).append((file, data.get("context", {})))
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            name = b.get("run_name", b["name"])
            parts = name.split("/")
            if len(parts) < 2:
                continue
            kernel, impl, case = parts[0], parts[1], "/".join(parts[2:])
            kernels.setdefault(kernel, OrderedDict()).setdefault(case, OrderedDict())[impl] = b
    return context, kernels


def metric(entry):
    """(value, unit, higher_is_better) for one benchmark entry."""
    if "bytes_per_second" in entry:
        return entry["bytes_per_second"] / 1e9, "GB/s", True
    if "items_per_second" in entry:
        return entry["items_per_second"] / 1e6, "M/s", True
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[entry.get("time_unit", "ns")]
    return entry["real_time"] * scale, "ns", False


def case_key(case):
    """Sorts cases by their text parts, then numerically by their number parts."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in case.split("/")]


def impl_order(impls):
    backends = [b for b in BACKENDS if b in impls]
    others = [i for i in impls if i not in BACKENDS]
    # Modes compared with Beast in the same mode (bench_deflate): each `beast_x` right after `x`.
    if any(f"beast_{i}" in impls for i in impls):
        others.sort(key=lambda i: (i != "off", i.removeprefix("beast_"), i.startswith("beast_")))
    return backends + others


def fmt(value, unit):
    if unit == "per s":  # value in millions per second
        n = value * 1e6
        return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e3 else f"{n:.0f}"
    if unit == "ns":
        return f"{value:.1f} ns" if value < 1000 else f"{value / 1000:.2f} us"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def size_label(case):
    m = re.fullmatch(r"(.*?)(\d+)", case)
    if not m:
        return case
    n = int(m.group(2))
    for div, suffix in ((1 << 20, " MiB"), (1 << 10, " KiB")):
        if n >= div and n % div == 0:
            return f"{m.group(1)}{n // div}{suffix}"
    return f"{m.group(1)}{n} B" if m.group(1) == "" or m.group(1).endswith("/") else case


def table(kernel, cases):
    """Markdown lines of one kernel's table."""
    impls = []
    for row in cases.values():
        impls += [i for i in row if i not in impls]
    impls = impl_order(impls)
    # Modes that are not backends (bench_deflate) against Beast in the same mode: `x` vs `beast_x`.
    pairs = [(i, f"beast_{i}") for i in impls if f"beast_{i}" in impls]
    best = next((b for b in BEST_ORDER if b in impls), None)
    # Ratios: the best backend against scalar and against everything that is not a backend.
    others = [i for i in impls if i != best and (i == "scalar" or i not in BACKENDS)] if best else []
    units = {metric(e)[1] for row in cases.values() for e in row.values()}
    unit = units.pop() if len(units) == 1 else "mixed"
    per_item = unit == "M/s"
    timed = [best] if best else []  # those with an ns/item column
    ratios = [(best, o) for o in others] + pairs  # (a, b): how much faster a is than b
    baseline = MODE_BASELINES.get(kernel)
    if baseline in impls:
        impls = [baseline] + [i for i in impls if i != baseline]
        timed = impls
        ratios = [(i, baseline) for i in impls if i != baseline]

    # Rates far below a million per second read better as plain counts (bench_deflate).
    if per_item and min(metric(e)[0] for row in cases.values() for e in row.values()) < 0.1:
        unit = "per s"
    header = ["case"] + [f"{i} ({unit})" for i in impls]
    if per_item:
        header += [f"{i} ns/item" for i in timed]
    header += [f"{a} vs {b}" for a, b in ratios]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for case in sorted(cases, key=case_key):
        row = cases[case]
        cells = [size_label(case) or "-"]
        for i in impls:
            cells.append(fmt(metric(row[i])[0], unit) if i in row else "")
        if per_item:
            cells += [f"{1e3 / metric(row[i])[0]:.1f}" if i in row else "" for i in timed]
        for a, b in ratios:
            if a in row and b in row:
                va, _, higher = metric(row[a])
                vb = metric(row[b])[0]
                cells.append(f"{(va / vb if higher else vb / va):.2f}x")
            else:
                cells.append("")
        lines.append("| " + " | ".join(cells) + " |")
    # A `ratio` counter (bench_deflate: payload bytes / bytes on the wire) gets a table of its own.
    if any("ratio" in e for row in cases.values() for e in row.values()):
        lines += ["", "Compression ratio (payload bytes / bytes on the wire):", "",
                  "| case | " + " | ".join(impls) + " |", "|" + "---|" * (len(impls) + 1)]
        for case in sorted(cases, key=case_key):
            row = cases[case]
            cells = [size_label(case) or "-"] + [f"{row[i]['ratio']:.2f}" if i in row and "ratio" in row[i] else ""
                                                  for i in impls]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def plot(kernel, cases, path):
    """One PNG per kernel: throughput vs size, a line per implementation (a panel per case group)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("benchmarks_md.py: matplotlib is missing (Debian python3-matplotlib): no plots", file=sys.stderr)
        return False
    groups = OrderedDict()  # case prefix -> impl -> [(size, value)]
    unit = None
    for case, row in cases.items():
        m = re.fullmatch(r"(?:(.*)/)?(\d+)", case)
        if not m:
            continue
        for impl, e in row.items():
            value, unit, _ = metric(e)
            groups.setdefault(m.group(1) or "", OrderedDict()).setdefault(impl, []).append((int(m.group(2)), value))
    if not groups:
        return False
    fig, axes = plt.subplots(1, len(groups), figsize=(6.5 * len(groups), 4.5), squeeze=False)
    for ax, (prefix, series) in zip(axes[0], groups.items()):
        for impl in impl_order(list(series)):
            pts = sorted(series[impl])
            style = "-o" if impl in BACKENDS else "--s"
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=impl, markersize=3)
        ax.set_xscale("log", base=2)
        values = [p[1] for pts in series.values() for p in pts if p[1] > 0]
        if values and max(values) > 100 * min(values):  # e.g. compressed vs uncompressed echoes
            ax.set_yscale("log")
        ax.set_xlabel("bytes")
        ax.set_ylabel(unit)
        ax.set_title(f"{kernel} {prefix}".strip())
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


E2E_NOTE = ("Real servers over TCP on 127.0.0.1, driven by `wsframe-load` (`tools/e2e.py`). Each server runs on one "
            "thread pinned to CPU {server_cpu}, the generator on CPU {generator_cpu}; every byte received is checked, "
            "and a cell with any error shows `failed`. Each cell is {duration_s} s of measurement, the median of "
            "{rounds} rounds (each round runs the cell on every server in turn, the order rotating; all the "
            "servers stay up, idle but for the one driven); in parentheses the "
            "server's CPU share over it (near 100%: the server is the bottleneck). Peers as their projects' examples "
            "write an echo and a pub/sub server: `beast` (Boost.Beast 1.81 websocket::stream, async), `websocketpp` "
            "(0.8.2 on Asio), `libwebsockets` (4.1, its default loop and buffers), `node_ws` (Node ws 8), "
            "`python_websockets` (websockets 10.4; pub/sub with `websockets.broadcast()`). {cpu}, {date}.")


def e2e_cell(cell, value_key, fmt_value, with_share):
    if cell is None:
        return "-"
    if "failed" in cell:
        return "failed"
    share = cell.get("server_cpu_share")
    return fmt_value(cell[value_key]) + (f" ({share:.0%})" if with_share and share is not None else "")


def e2e_table(report, mode, header, value_key, fmt_value, higher_is_better=True):
    """One grid (echo or broadcast): a row per connections x size, a column per server, wsframe's ratio."""
    names = [n for n, r in report["servers"].items() if "cells" in r]
    rows = OrderedDict()
    for name in names:
        for cell in report["servers"][name]["cells"]:
            if cell["mode"] == mode:
                rows.setdefault((cell["connections"], cell["size"]), {})[name] = cell
    lines = [f"| {header} | " + " | ".join(f"`{n}`" for n in names) + " | wsframe / best peer |",
             "|---" * (len(names) + 2) + "|"]
    for (connections, size), cells in rows.items():
        peers = [c[value_key] for n, c in cells.items() if n != "wsframe" and "failed" not in c]
        ours = cells.get("wsframe", {}).get(value_key)
        ratio = "-"
        if ours and peers:  # > 1: wsframe better (more per second, or less latency)
            ratio = f"{ours / max(peers):.2f}x" if higher_is_better else f"{min(peers) / ours:.2f}x"
        lines.append(f"| {connections} x {size} B | " + " | ".join(
            e2e_cell(cells.get(n), value_key, fmt_value, higher_is_better) for n in names) + f" | {ratio} |")
    return lines


def e2e_section(report, png):
    shares = [c["generator_cpu_share"] for r in report["servers"].values() for c in r.get("cells", [])
              if "generator_cpu_share" in c]
    generator = (f" The load generator used {min(shares):.0%}-{max(shares):.0%} of its CPU across the cells: at small "
                 "messages it costs about what the server does per message (both are mostly the kernel's TCP work)."
                 if shares else "")
    md = ["", "## end to end", "", E2E_NOTE.format(**{"rounds": 1, **report}) + generator, "",
          "### echo: messages per second", "",
          "Every connection sends one binary message, waits for the whole echo, and sends the next.", ""]
    md += e2e_table(report, "echo", "connections x payload", "messages_per_s", lambda v: f"{v:,.0f}")
    md += ["", "### broadcast: deliveries per second", "",
           ("One publisher, N subscribers; the server relays each message to every client. The publisher keeps 8 "
            "messages not yet delivered to everyone, and writes what one wakeup frees in one send."), ""]
    md += e2e_table(report, "broadcast", "subscribers x payload", "messages_per_s", lambda v: f"{v:,.0f}")
    md += ["", "### broadcast: p99 latency, send to receipt (ms)", "", "The ratio is the best peer's latency over wsframe's.", ""]
    md += e2e_table(report, "broadcast", "subscribers x payload", "p99_ms", lambda v: f"{v:.2f}", False)
    md += ["", "### memory per idle connection", "",
           "Resident memory growth of the server process with 5,000 idle connections (handshake done), per "
           "connection, beside the kernel's socket buffers.", "", "| server | bytes per idle connection |", "|---|---|"]
    for name, r in report["servers"].items():
        idle = r.get("idle", {})
        md.append(f"| `{name}` | " + (r.get("skipped") or idle.get("failed") or f"{idle['bytes_per_connection']:,.0f}")
                  + " |")
    if e2e_plot(report, png):
        md += ["", f"![end to end]({png[1]})"]
    return md


def e2e_plot(report, png):
    """Grouped bars: echo messages per second per cell, one bar per server."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = [n for n, r in report["servers"].items() if "cells" in r]
    keys = []
    for n in names:
        for c in report["servers"][n]["cells"]:
            if c["mode"] == "echo" and (c["connections"], c["size"]) not in keys:
                keys.append((c["connections"], c["size"]))
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / max(1, len(names))
    for i, n in enumerate(names):
        by_key = {(c["connections"], c["size"]): c for c in report["servers"][n]["cells"] if c["mode"] == "echo"}
        values = [by_key.get(k, {}).get("messages_per_s", 0) for k in keys]
        ax.bar([j + i * width for j in range(len(keys))], values, width, label=n)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(keys))])
    ax.set_xticklabels([f"{c} x {s} B" for c, s in keys], fontsize=8)
    ax.set_ylabel("echoes per second")
    ax.set_title("end to end: echo, one server thread")
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(png[0], dpi=90)
    plt.close(fig)
    return True


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    results_dir, out_path = sys.argv[1], sys.argv[2]
    context, kernels = load(results_dir)
    if not kernels:
        sys.exit(f"no benchmark results in {results_dir}")

    md = ["# wsframe benchmarks", "",
          "Generated by `tools/bench` (`tools/benchmarks_md.py` from the Google Benchmark JSON in "
          "`bench/results/`). Medians of randomly interleaved repetitions, pinned to one CPU. Ratios "
          "compare the best backend with scalar and with each implementation that is not a backend in the same "
          "row (> 1: wsframe faster). Each row comes from one results file, whose CPU the table below names. Google Benchmark from Debian reports its own library as a debug build; that "
          "concerns the framework's bookkeeping, not the code timed.",
          "", "| results file | date | CPU | cores | compiler | backends supported |", "|---|---|---|---|---|---|"]
    for file, ctx in context["files"]:
        md.append(f"| `{file}` | {ctx.get('date', '?')} | {ctx.get('cpu_model', '?')} @ {ctx.get('mhz_per_cpu', '?')} MHz "
                  f"| {ctx.get('num_cpus', '?')} | {ctx.get('compiler', '?')} | {ctx.get('wsframe_backends', '?')} |")
    for kernel, cases in kernels.items():
        md += ["", f"## {kernel}", ""]
        if kernel in NOTES:
            md += [NOTES[kernel], ""]
        md += table(kernel, cases)
        png = os.path.join(results_dir, f"{kernel}.png")
        if plot(kernel, cases, png):
            md += ["", f"![{kernel}]({os.path.relpath(png, os.path.dirname(os.path.abspath(out_path)) or '.')})"]
    e2e_path = os.path.join(results_dir, "e2e.json")
    if os.path.exists(e2e_path):
        with open(e2e_path) as f:
            report = json.load(f)
        for r in report["servers"].values():
            for cell in r.get("cells", []):
                if "latency_us" in cell:
                    cell["p99_ms"] = cell["latency_us"]["p99"] / 1e3
        png = os.path.join(results_dir, "e2e.png")
        md += e2e_section(report, (png, os.path.relpath(png, os.path.dirname(os.path.abspath(out_path)) or ".")))
    text = "\n".join(md) + "\n"
    with open(out_path, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
