#!/usr/bin/env python3
"""alloc_history.py — what the CUDA caching allocator histories say about llmplan's allocator model.

Reads torch.cuda.memory._dump_snapshot() pickles (measure.py writes them for runs with
record_history, into LLMPLAN_HISTORY_DIR) without torch: plain pickle, unknown classes mapped to
dicts. For each history it prints

  * the segments cudaMalloc made during the recorded steps, in order, with their device address
    (MiB, relative to the lowest) and size: the order of addresses decides which of several
    equal-size free blocks the allocator reuses (its block set is ordered by size, then address);
  * max_memory_reserved when the measured requests (every alloc and free of the history, in order,
    on the segments that existed before recording) are replayed with the rules of
    planner/torch_alloc.cpp and three tie-breaks among equal-size free blocks: the segment created
    first, the segment created last, and the true device address.

If a tie-break reproduces the measured reserved bytes and segment count, the allocator rules are
right and any remaining miss of llmplan's replay comes from the op sequence it replays.

With --requests MIB it lists instead every allocation of at least MIB MiB and its free, in order,
each allocation labelled with what made it: the ATen op(s) (at::_ops::NAME), the autograd node
whose backward ran it (e.g. SoftmaxBackward0) and the innermost Python frames (file:line:function)
-- the sequence to hold llmplan's simulated requests against, op by op (how the backward of a
checkpointed layer was aligned, docs/validation/pytorch_memory.md).

  python3 validation/pytorch_memory/alloc_history.py DIR_OR_PICKLE...
  python3 validation/pytorch_memory/alloc_history.py --requests 1 PICKLE

Standard library only. docs/validation/pytorch_memory.md quotes the output (2026-12-05).
"""
import glob
import os
import pickle
import re
import sys

MIB = 1 << 20
SMALL = 1 << 20  # kSmallSize: requests up to 1 MiB use the small pool


class _Loose(pickle.Unpickler):
    """Unpickles a snapshot without torch: classes that cannot be imported become dicts."""

    def find_class(self, module, name):
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return lambda *args, **kwargs: dict(_class=name, args=args, kwargs=kwargs)


def load(path):
    with open(path, "rb") as f:
        return _Loose(f).load()


def round_up(x, unit):
    return -(-x // unit) * unit


def segment_size(size):
    """cudaMalloc size for a request no cached block fits (torch_alloc.cpp segment_size)."""
    if size <= SMALL:
        return 2 * MIB
    if size < 10 * MIB:
        return 20 * MIB
    return round_up(size, 2 * MIB)


class Replay:
    """The block rules of planner/torch_alloc.cpp, with a pluggable order among equal sizes."""

    def __init__(self, order):
        self.order = order      # (segment index, creation count, address) -> sort key
        self.segments = []      # dict(small, size, address, blocks={offset: [size, owner]})
        self.where = {}
        self.reserved = 0
        self.created = 0

    def add_segment(self, small, size, address, live=()):
        blocks, pos = {}, 0
        for off, sz, owner in sorted(live):
            if off > pos:
                blocks[pos] = [off - pos, None]
            blocks[off] = [sz, owner]
            self.where[owner] = (len(self.segments), off)
            pos = off + sz
        if pos < size:
            blocks[pos] = [size - pos, None]
        self.segments.append(dict(small=small, size=size, address=address, blocks=blocks))
        self.reserved += size

    def allocate(self, owner, nbytes, new_address):
        size = max(512, round_up(nbytes, 512))
        small = size <= SMALL
        fits = [(sz, i, off) for i, g in enumerate(self.segments) if g["small"] == small
                for off, (sz, who) in g["blocks"].items() if who is None and sz >= size]
        if not fits:
            self.add_segment(small, segment_size(size), new_address())
            self.created += 1
            g = self.segments[-1]
            fits = [(g["size"], len(self.segments) - 1, 0)]
        sz, i, off = min(fits, key=lambda b: (b[0], self.order(b[1], self.segments[b[1]]["address"]), b[2]))
        g = self.segments[i]
        rest = sz - size
        if rest >= 512 if small else rest > SMALL:
            g["blocks"][off] = [size, owner]
            g["blocks"][off + size] = [rest, None]
        else:
            g["blocks"][off][1] = owner
        self.where[owner] = (i, off)

    def release(self, owner):
        if owner not in self.where:
            return
        i, off = self.where.pop(owner)
        blocks = self.segments[i]["blocks"]
        blocks[off][1] = None
        offsets = sorted(blocks)
        k = offsets.index(off)
        if k + 1 < len(offsets) and blocks[offsets[k + 1]][1] is None:
            blocks[off][0] += blocks.pop(offsets[k + 1])[0]
        if k > 0 and blocks[offsets[k - 1]][1] is None:
            blocks[offsets[k - 1]][0] += blocks.pop(off)[0]


def replay(snapshot, order):
    trace = snapshot["device_traces"][0]
    made = [e["addr"] for e in trace if e["action"] == "segment_alloc"]
    allocated = {e["addr"] for e in trace if e["action"] == "alloc"}
    # Blocks alive when recording began: freed before any alloc at their address, or still
    # allocated at the end without an alloc in the history.
    seen, live = set(), {}
    for e in trace:
        if e["action"] == "alloc":
            seen.add(e["addr"])
        elif e["action"] == "free_completed" and e["addr"] not in seen:
            live[e["addr"]] = e["size"]
    r = Replay(order)
    for seg in sorted(snapshot["segments"], key=lambda g: g["address"]):
        if seg["address"] in made:
            continue
        base, size = seg["address"], seg["total_size"]
        for blk in seg["blocks"]:
            if blk["state"] == "active_allocated" and blk["address"] not in allocated:
                live[blk["address"]] = blk["size"]
        mine = [(a - base, sz, ("before", a)) for a, sz in live.items() if base <= a < base + size]
        r.add_segment(seg["segment_type"] == "small", size, base, mine)
    start_segments = len(r.segments)
    pending = iter(made)
    peak = r.reserved
    for e in trace:
        if e["action"] == "alloc":
            r.allocate(("traced", e["addr"]), e["size"], lambda: next(pending, 0))
            peak = max(peak, r.reserved)
        elif e["action"] == "free_completed":
            key = ("before", e["addr"]) if ("before", e["addr"]) in r.where else ("traced", e["addr"])
            r.release(key)
    return peak, r.created, start_segments


def report(path):
    snap = load(path)
    trace = snap["device_traces"][0]
    measured = sum(g["total_size"] for g in snap["segments"])
    made = [(e["addr"], e["size"]) for e in trace if e["action"] == "segment_alloc"]
    low = min(g["address"] for g in snap["segments"])
    print(f"## {os.path.basename(path)}")
    print(f"measured: max reserved {measured / (1 << 30):.3f} GiB, {len(snap['segments'])} segments, "
          f"{len(made)} made while recording")
    print("segments made, in order (address MiB above the lowest segment: size MiB):")
    print("  " + ", ".join(f"{(a - low) // MIB}:{s // MIB}" for a, s in made))
    rules = {
        "first-created segment first (llmplan before 2026-12-05)": lambda i, addr: i,
        "last-created segment first (llmplan now)": lambda i, addr: -i,
        "true device address": lambda i, addr: addr,
    }
    for name, order in rules.items():
        peak, created, before = replay(snap, order)
        print(f"  replay of the measured requests, {name}: max reserved {peak / (1 << 30):.3f} GiB, "
              f"{created} segments made ({before} before recording)")
    print()


def label(event):
    """What made an allocation: ATen ops, the autograd node running it, the innermost Python frames."""
    ops, py, node = [], [], None
    for f in event.get("frames", []):
        name = f["name"]
        if node is None:
            m = re.search(r"torch::autograd::(?:generated::)?(\w+)::apply", name)
            if m:
                node = m.group(1)
        m = re.match(r"at::_ops::(\w+)::call", name)
        if m and len(ops) < 2:
            ops.append(m.group(1))
        if f["filename"].endswith(".py") and len(py) < 3:
            py.append(f"{os.path.basename(f['filename'])}:{f['line']}:{name}")
    return f"{'/'.join(ops) or '?'} node={node} py={' < '.join(py)}"


def requests(path, min_mib):
    """Every alloc of at least min_mib MiB (and its free) in the recorded order."""
    trace = load(path)["device_traces"][0]
    live, total = {}, 0
    for i, e in enumerate(trace):
        if e["action"] == "segment_alloc" and e["size"] >= min_mib * MIB:
            print(f"{i:7d} segment {e['size'] / MIB:10.2f} MiB")
        elif e["action"] == "alloc":
            live[e["addr"]] = (i, e["size"])
            total += e["size"]
            if e["size"] >= min_mib * MIB:
                print(f"{i:7d} alloc   {e['size'] / MIB:10.2f} MiB  traced {total / MIB:9.0f}  {label(e)}")
        elif e["action"] == "free_completed" and e["addr"] in live:
            j, size = live.pop(e["addr"])
            total -= size
            if size >= min_mib * MIB:
                print(f"{i:7d} free    {size / MIB:10.2f} MiB  traced {total / MIB:9.0f}  (alloc {j})")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--requests":
        requests(sys.argv[3], float(sys.argv[2]))
        return
    paths = []
    for arg in sys.argv[1:]:
        paths += sorted(glob.glob(os.path.join(arg, "*.pickle"))) if os.path.isdir(arg) else [arg]
    if not paths:
        sys.exit("usage: alloc_history.py DIR_OR_PICKLE... | --requests MIB PICKLE (torch.cuda.memory snapshots)")
    for p in paths:
        report(p)


if __name__ == "__main__":
    main()
