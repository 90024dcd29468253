#!/usr/bin/env python3
"""Prints the ratios the guide quotes (docs/performance.md), from criterion's estimates of the
last `cargo bench --bench verify`, `--bench login` and
`-p twofa-compare --bench peers` runs (target/criterion/).

Each time is read against its reference in the same group and run:
- `kept_*` against `floor_{2 per candidate + 2}` as the per-request case
  (the floor of keying and verifying), and `per_request_*` likewise; in
  the ±1 TOTP groups also against the bare HMAC compressions in HMAC's
  order (`bare_hmac_6` kept, `bare_hmac_8` per request), themselves read
  against `floor_8`; a kept HOTP verifier also against the floor of its
  candidates alone (`floor_22`);
- the growth group's points against the floor of their own candidates;
- `guard_*` against `verify_at_miss`, peers against `twofa`;
- the TOTP check with events (`unit_sink_*`, `discard_sink_*`) against
  the plain check (`guard_*`) in the same group;
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
        # Keying and 11 candidates, as the floor of 2 + 2·(n+1).
        return "floor_24"
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
    if group.startswith("guard_events_"):
        m = re.fullmatch(r"(?:unit|discard)_sink_(miss|hit)", bench)
        return f"guard_{m[1]}" if m else None
    if group.startswith("peers_"):
        return "twofa"
    return None


def bound_for(group, bench):
    """A second reference: for ±1 TOTP the bare HMAC compressions in HMAC's
    order, for a kept HOTP verifier the floor of its candidates alone."""
    if group.startswith("totp_verify_window1_") and (
            bench.startswith("kept_") or bench.startswith("per_request_")):
        return "bare_hmac_6" if bench.startswith("kept_") else "bare_hmac_8"
    if group.startswith("hotp_verify_look_ahead10_") and bench.startswith("kept_"):
        return "floor_22"
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
                if bench.startswith("bare_hmac_"):
                    # The bound itself, against the floor of 8.
                    ns, base = estimate(group, bench), estimate(group, "floor_8")
                    if ns is not None and base:
                        rows.append(f"  {bench}: {ns:,.0f} ns, {ns / base:.2f} × floor_8")
                    continue
                reference = floor_for(group, bench)
                ns, base = estimate(group, bench), reference and estimate(group, reference)
                if ns is None:
                    continue
                ratio = f"{ns / base:.2f} × {reference}" if base else "(no reference)"
                bound = bound_for(group, bench)
                bound_ns = bound and estimate(group, bound)
                if bound_ns:
                    ratio += f", {ns / bound_ns:.2f} × {bound}"
                rows.append(f"  {bench}: {ns:,.0f} ns, {ratio}")
        if rows:
            print(group)
            print("\n".join(rows))


if __name__ == "__main__":
    main()
