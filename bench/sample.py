#!/usr/bin/env python3
"""sample.py ROOT_PID|@PIDFILE EXE OUTFILE [INTERVAL]

With @PIDFILE, it first creates PIDFILE.ready, then waits (at most 60 s)
for PIDFILE to hold the pid to sample: start it before the command, so that
its own start-up (slow under load) cannot miss a short run.

Samples, until ROOT_PID exits, the fanout process (the first process at or
under ROOT_PID whose executable is EXE) and its plugin processes (its direct
children running EXE: `fanout internal-plugin NAME`). Everything else is
left out: sshd, remote shells, the local plugin's `sh -c` children, and
those children between fork and exec, when they still look like fanout.

Writes one line to OUTFILE:

    peak_sum_rss_kB sum_hwm_kB main_cpu_s plugin_cpu_s nprocs samples peak_sum_pss_kB

  peak_sum_rss_kB  largest sum of VmRSS over the processes seen at one sample
  sum_hwm_kB       sum of each process's VmHWM (its own peak RSS, kept by the
                   kernel, so nothing is missed between samples): an upper
                   bound of the true peak of the sum
  main_cpu_s       user+sys CPU of the fanout process (not its plugins)
  plugin_cpu_s     user+sys CPU of its plugin processes
  peak_sum_pss_kB  largest sum of Pss (smaps_rollup): like RSS, but pages
                   shared by the two processes (the fanout binary's, about
                   17 MB each) are counted once
CPU is the last value read before the process ended: at most INTERVAL
(default 0.02 s) of CPU is missed.

The sampler runs beside fanout and not beside the tools it is compared
with, so what it costs is charged to fanout's wall time: it must stay far
below what it measures. At 2,000 hosts, reading smaps_rollup of the two
processes costs 2.2 ms (the kernel walks every page) and finding them
under ROOT_PID 0.2 ms; done every 100 ms and 20 ms, they took 0.54 CPU-s
of a 12 s run, 2 % of this 2-core machine. So the processes are looked
for again only every RESCAN seconds once fanout and a plugin are found
(before, at every sample: a run shorter than RESCAN would have no
plugin), and Pss is read only when the RSS sum has grown PSS_STEP past
where Pss was last read (Pss follows RSS, less the shared pages, whose
size hardly moves), or PSS_EVERY seconds after the last read: a few
dozen reads a run instead of hundreds.
"""
import os
import sys
import time

CLK = os.sysconf("SC_CLK_TCK")
RESCAN = 0.5     # seconds between looks, once a plugin is found
PSS_STEP = 1.05  # RSS growth that makes Pss read again
PSS_EVERY = 1.0  # seconds after which Pss is read again anyway


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def is_exe(pid, exe):
    try:
        return os.path.realpath(f"/proc/{pid}/exe") == exe
    except OSError:
        return False


def fanout_procs(root, exe, depth=3):
    """The fanout process at or under root and its plugin children."""
    level = [root]
    for _ in range(depth):
        for p in level:
            if is_exe(p, exe):
                return [p] + [c for c in children(p) if is_exe(c, exe)]
        nxt = []
        for p in level:
            nxt += children(p)
        level = nxt
    return []


class Files:
    """Open /proc/PID/status and stat of the processes sampled, kept open:
    a pread at offset 0 reads them anew, without an open and a close per
    sample."""

    def __init__(self):
        self.fds = {}

    def read(self, pid, name):
        fd = self.fds.get((pid, name))
        if fd is None:
            fd = os.open(f"/proc/{pid}/{name}", os.O_RDONLY)
            self.fds[(pid, name)] = fd
        return os.pread(fd, 8192, 0)

    def status(self, pid):
        data = self.read(pid, "status")
        return field_kb(data, b"VmRSS:"), field_kb(data, b"VmHWM:")

    def cpu(self, pid):
        data = self.read(pid, "stat")
        fields = data[data.rindex(b")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / CLK  # utime, stime


def field_kb(data, name):
    i = data.find(name)
    if i < 0:
        return 0
    return int(data[i + len(name):data.index(b"k", i)])


def pss(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    exe, outfile = os.path.realpath(argv[2]), argv[3]
    interval = float(argv[4]) if len(argv) > 4 else 0.02
    if argv[1].startswith("@"):
        pidfile = argv[1][1:]
        open(pidfile + ".ready", "w").close()
        root = 0
        wait_until = time.time() + 60
        while time.time() < wait_until:
            try:
                with open(pidfile) as f:
                    root = int(f.read().strip() or 0)
            except (OSError, ValueError):
                root = 0
            if root:
                break
            time.sleep(0.002)
        if not root:
            sys.exit("sample.py: no pid in " + pidfile)
    else:
        root = int(argv[1])
    peak = peak_pss = 0
    procs = {}  # pid -> [hwm, cpu, is_plugin]
    n = 0
    found, found_at = [], 0.0
    files = Files()
    pss_rss, pss_at = 0, 0.0  # the RSS sum and time of the last Pss read
    deadline = time.time() + 3600  # bounded, whatever happens
    while time.time() < deadline:
        if not os.path.exists(f"/proc/{root}"):
            break
        now = time.time()
        # found[1:] are the plugins, which fanout starts after itself.
        if len(found) < 2 or now - found_at >= RESCAN:
            found, found_at = fanout_procs(root, exe), now
        total = 0
        seen = []
        for pid in found:
            try:
                rss, hwm = files.status(pid)
                c = files.cpu(pid)
                if pid not in procs:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        plug = b"internal-plugin" in f.read()
                    procs[pid] = [0, 0.0, plug]
                procs[pid][0] = max(procs[pid][0], hwm)
                procs[pid][1] = c
                total += rss
                seen.append(pid)
            except (OSError, ValueError, IndexError):
                continue
        peak = max(peak, total)
        if seen and (total > pss_rss * PSS_STEP or now - pss_at >= PSS_EVERY):
            total_pss = 0
            for pid in seen:
                try:
                    total_pss += pss(pid)
                except (OSError, ValueError):
                    pass
            peak_pss = max(peak_pss, total_pss)
            pss_rss, pss_at = total, now
        n += 1
        time.sleep(interval)
    hwm = sum(p[0] for p in procs.values())
    main_cpu = sum(p[1] for p in procs.values() if not p[2])
    plug_cpu = sum(p[1] for p in procs.values() if p[2])
    with open(outfile, "w") as f:
        f.write(f"{peak} {hwm} {main_cpu:.3f} {plug_cpu:.3f} {len(procs)} {n} {peak_pss}\n")


if __name__ == "__main__":
    main(sys.argv)
