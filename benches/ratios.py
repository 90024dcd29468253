#!/usr/bin/env python3
"""Prints the ratios the README quotes, from criterion's estimates of the
last `cargo bench --bench verify`, `--bench login` and
`-p twofa-compare --bench peers` runs (target/criterion/).

Each time is read against its reference in the same group and run:
- `kept_*` against `floor_{2 per candidate + 2}` as the per-request case
  (the floor of keying and verifying), and `per_request_*` likewise;
- the growth group's points against the floor of their own candidates;
- `guard_*` against `verify_at_miss`, peers against `twofa`;
- login throughput as logins per second per thread.
"""

import json
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")


def estimate(group, bench):
    path = ROOT / group / bench / "new" / "estimates.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    point = data.get("slope") or data["mean"]
    return point["point_estimate"]


def benches(group):
    return sorted(p.name for p in (ROOT / group).iterdir() if (p / "new").is_dir())


def floor_for(group, bench):
    """The floor a bench is read against, or None."""
    if group.startswith("totp_verify_window1_"):
        return "floor_8"
    if group.startswith("hotp_verify_look_ahead10_"):
        return "floor_24" if bench.startswith("per_request") else "floor_22"
    if group.startswith("generate_"):
        return "floor_4" if bench == "per_request" else "floor_2"
    if group.startswith("growth_"):
        m = re.fullmatch(r"totp_window_(\d+)", bench)
        if m:
            return f"floor_{2 * (2 * int(m[1]) + 1)}"
        m = re.fullmatch(r"hotp_look_ahead_(\d+)", bench)
        if m:
            return f"floor_{2 * (int(m[1]) + 1)}"
        m = re.fullmatch(r"hotp_resync_(\d+)", bench)
        if m:
            return f"floor_{2 * (int(m[1]) + 2)}"
    if group.startswith("guard_verify_"):
        return "verify_at_miss"
    if group.startswith("peers_"):
        return "twofa"
    return None


def main():
    if not ROOT.is_dir():
        sys.exit(f"{ROOT}: no criterion results; run the benches first")
    for group_dir in sorted(p for p in ROOT.iterdir() if p.is_dir() and p.name != "report"):
        group = group_dir.name
        rows = []
        if group.startswith("login_throughput_"):
            for bench in benches(group):
                threads = int(re.search(r"(\d+)_threads", bench)[1])
                total = 1e9 / estimate(group, bench)
                rows.append(f"  {bench}: {total / 1e6:.2f} M logins/s, "
                            f"{total / threads / 1e6:.2f} M per thread")
        else:
            for bench in benches(group):
                if bench.startswith("floor_"):
                    continue
                reference = floor_for(group, bench)
                ns, base = estimate(group, bench), reference and estimate(group, reference)
                if ns is None:
                    continue
                ratio = f"{ns / base:.2f} × {reference}" if base else "(no reference)"
                rows.append(f"  {bench}: {ns:,.0f} ns, {ratio}")
        if rows:
            print(group)
            print("\n".join(rows))


if __name__ == "__main__":
    main()
