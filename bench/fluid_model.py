#!/usr/bin/env python3
"""Completion times of a BitTorrent swarm predicted by the fluid model of Qiu and Srikant.

    bench/fluid_model.py flash  --leechers N --file-size F --seed-upload U --upload MU --download C [options]
    bench/fluid_model.py steady --arrival-rate L --file-size F --seed-upload U --upload MU --download C [options]
    bench/fluid_model.py --self-test

Sizes in bytes and rates in bytes/s; both take k, M, G (10^3) or Ki, Mi, Gi (2^10) suffixes, with or
without a trailing B ("1GiB", "250kB"). Times are in seconds.

  flash   N leechers arrive at t = 0 with nothing. Prints the time all N finish when every leecher
          progresses at the same rate (the bound min(c, eta*mu + U/N) on each one's rate), and the
          completions that the paper's Eq. (1) predicts with lambda = 0; --csv prints Eq. (1)'s
          curve of leechers remaining over time instead.
  steady  leechers arrive as a Poisson process of rate L a second. Prints the steady state of
          Eq. (1) and the paper's average download time T = 1 / (theta + beta); --csv prints
          Eq. (1)'s curve from an empty swarm to that steady state. Warns when leechers leave at
          completion and the origin seed uploads no more pieces a second than leechers arrive
          (Hajek and Zhu's missing piece syndrome: a real swarm is then unstable).

Options of both: --eta E, or --pieces P (default: F / --piece-size, 256 KiB) and --connections K
(default 4) to take the paper's eta = 1 - (ln P / P)^K; --departure leave|stay (default leave:
a leecher leaves when it completes), or --seed-time S (it stays S seconds on average, gamma = 1/S);
--abort-rate THETA (default 0). --csv and --csv-rows R (default 200) print the curve of Eq. (1).

The model, its assumptions and how to hold a simulated swarm against it:
docs/results/swarm-fluid-model.md.

Reference: D. Qiu and R. Srikant, "Modeling and Performance Analysis of BitTorrent-Like
Peer-to-Peer Networks", ACM SIGCOMM 2004, Section 3 ("A simple fluid model").

The paper counts in files: mu and c are files a second. Here they are bytes a second and divided
by F inside. The paper's seeds all upload at mu; the origin seed of this suite uploads at its own
rate U and never leaves, which Eq. (1) holds as U/mu more seeds with gamma = 0 for them: the term
mu*y becomes mu*y + U. With U = 0 every formula below is the paper's.
"""
import argparse
import math
import re
import sys

INF = float("inf")


# --- the model --------------------------------------------------------------------------------


class swarm:
    """One torrent: sizes in bytes, rates in bytes/s, departure rates a second.

    file_size      F
    seed_upload    U: the origin seed's upload rate; it stays for good
    upload         mu: a leecher's upload rate (and a staying seed's)
    download       c: a leecher's download rate
    eta            the effectiveness of file sharing, in [0, 1]: the share of a leecher's upload
                   that is of use to others
    seed_departure gamma: a finished leecher leaves at this rate; inf = at once (leave), 0 = never
    abort_rate     theta: a leecher gives up before completing at this rate
    """

    def __init__(self, file_size, seed_upload, upload, download, eta=1.0, seed_departure=INF, abort_rate=0.0):
        if file_size <= 0 or download <= 0 or upload < 0 or seed_upload < 0:
            raise ValueError("need file size > 0, download > 0, upload >= 0, seed upload >= 0")
        if not 0.0 <= eta <= 1.0:
            raise ValueError("eta must be in [0, 1]")
        if seed_departure < 0 or abort_rate < 0:
            raise ValueError("departure and abort rates must be >= 0")
        self.file_size = float(file_size)
        self.seed_upload = float(seed_upload)
        self.upload = float(upload)
        self.download = float(download)
        self.eta = float(eta)
        self.seed_departure = float(seed_departure)
        self.abort_rate = float(abort_rate)

    # The paper's units: files a second.
    @property
    def mu(self):
        return self.upload / self.file_size

    @property
    def c(self):
        return self.download / self.file_size

    @property
    def u(self):
        return self.seed_upload / self.file_size


def effectiveness(pieces, connections):
    """eta = 1 - (log N / N)^k  (Section 3, "effectiveness of file sharing").

    N pieces, each leecher uploading to k others. The paper: a leecher's upload goes to waste only
    if none of the k peers it is connected to needs any piece it has; with the number of pieces a
    leecher holds uniform over 0..N-1, one peer needs nothing from it with probability about
    log N / N, hence the formula. It is an approximation for large N (natural log); eta is close to
    1 for any real torrent (N = 100, k = 1 already gives 0.954).
    """
    if pieces < 2 or connections < 1:
        raise ValueError("need at least 2 pieces and 1 connection")
    return 1.0 - (math.log(pieces) / pieces) ** connections


def service_rate(s, x, y):
    """min{c x, mu (eta x + y)}: files a second that x leechers and y seeds complete, Eq. (1).

    A leecher downloads at most c; all leechers together get what the seeds upload (mu each, plus
    the origin seed's U here) and the useful part eta of what the leechers upload.
    """
    return min(s.c * x, s.mu * (s.eta * x + y) + s.u)


def derivatives(s, x, y, arrival_rate):
    """Eq. (1), the fluid model:

        dx/dt = lambda - theta x(t) - min{c x(t), mu (eta x(t) + y(t))}
        dy/dt = min{c x(t), mu (eta x(t) + y(t))} - gamma y(t)

    x: leechers (the paper's downloaders), y: seeds that finished here (the origin seed is the
    constant U). With gamma = inf (a leecher leaves when it completes) y stays 0.
    """
    served = service_rate(s, x, y)
    dx = arrival_rate - s.abort_rate * x - served
    if math.isinf(s.seed_departure):
        dy = 0.0  # a finished leecher leaves at once: it never counts as a seed
    else:
        dy = served - s.seed_departure * y
    return dx, dy, served


def local_rate(s, x, y):
    """The fastest rate a second of Eq. (1) near (x, y): the step must stay well below its inverse.

    Only the branch of the min that is active counts, so a fast c does not slow the upload-limited
    part of a run.
    """
    departures = s.abort_rate + (0.0 if math.isinf(s.seed_departure) else s.seed_departure)
    if s.c * x <= s.mu * (s.eta * x + y) + s.u:
        return s.c + departures
    return s.mu * (s.eta + 1.0) + departures


def integrate(s, x0, y0, arrival_rate, t_end, dt_max, stop_below=None):
    """Eq. (1) by fourth-order Runge-Kutta from (x0, y0) at t = 0.

    Steps of at most dt_max, and at most a fiftieth of 1 / local_rate(). Returns rows
    (t, x, y, completed): `completed` is the integral of the service rate, the files' worth of
    leechers that became seeds. Stops at t_end, or once x < stop_below (if given).
    """
    rows = [(0.0, float(x0), float(y0), 0.0)]
    t, x, y, done = 0.0, float(x0), float(y0), 0.0

    def f(x_, y_):
        dx, dy, served = derivatives(s, max(x_, 0.0), max(y_, 0.0), arrival_rate)
        return dx, dy, served

    while t < t_end:
        h = min(dt_max, 0.02 / max(local_rate(s, x, y), 1e-300), t_end - t)
        k1 = f(x, y)
        k2 = f(x + h / 2 * k1[0], y + h / 2 * k1[1])
        k3 = f(x + h / 2 * k2[0], y + h / 2 * k2[1])
        k4 = f(x + h * k3[0], y + h * k3[1])
        x += h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        y += h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        done += h / 6 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2])
        x, y = max(x, 0.0), max(y, 0.0)
        t += h
        rows.append((t, x, y, done))
        if stop_below is not None and x < stop_below:
            break
    return rows


# --- flash crowd ------------------------------------------------------------------------------


def flash_crowd_bound(s, leechers):
    """The time all N leechers finish when all progress at the same rate (no equation of the paper).

    Every byte a leecher downloads was uploaded by the origin seed or by a leecher, so with N
    leechers present until they finish, each gets at most

        r = min{c, eta mu + U / N}                                        (per-leecher rate)

    and the origin seed must upload every byte once: T_all >= F / U. Hence

        T_all = max{F / c, F / U, N F / (U + eta N mu)}

    which is Kumar and Ross's minimum distribution time (max{F/d_min, F/u_s, NF/(u_s + sum u_i)})
    with the leechers' upload discounted by eta. In the fluid limit it is reached by every leecher
    progressing at the same rate, so all N finish together at T_all; since none finishes earlier,
    whether finished leechers stay does not change it. Returns the three terms and their maximum.
    """
    n = float(leechers)
    f = s.file_size
    terms = {
        "download": f / s.download,
        "seed": f / s.seed_upload if s.seed_upload > 0 else INF,
        "upload": n * f / (s.seed_upload + s.eta * n * s.upload) if s.seed_upload + s.eta * n * s.upload > 0 else INF,
    }
    terms["all"] = max(terms.values())
    terms["rate"] = min(s.download, s.eta * s.upload + s.seed_upload / n)
    return terms


def flash_crowd_ode(s, leechers, t_end=None):
    """Eq. (1) with lambda = 0, x(0) = N, y(0) = 0, integrated until next to no leecher remains.

    Returns (rows, times): `times` maps 0.5, 0.9, 0.99 to when that share of the N had completed,
    "last" to when x(t) fell below 0.5, and "mean" to the mean time a leecher spent downloading
    (the integral of x over N, Little's law; the per-leecher download time when no one aborts).
    """
    # The slowest time scale of Eq. (1), finite even where T_all is not (U = 0, the paper's case).
    scale = max(1.0 / s.c, 1.0 / (s.eta * s.mu + s.u) if s.eta * s.mu + s.u > 0 else 1.0 / s.c)
    horizon = t_end if t_end is not None else 200.0 * scale
    # On to a millionth of a leecher, so that the mean misses next to nothing of the tail.
    rows = integrate(s, leechers, 0.0, 0.0, horizon, scale / 5000.0, 1e-6)
    times = {}
    for share in (0.5, 0.9, 0.99):
        times[share] = next((t for t, _, _, done in rows if done >= share * leechers), INF)
    times["last"] = next((t for t, x, _, _ in rows if x < 0.5), INF)
    area = sum((b[0] - a[0]) * (a[1] + b[1]) / 2 for a, b in zip(rows, rows[1:]))
    times["mean"] = area / leechers if rows[-1][1] < 1e-6 else INF
    rows = [r for r in rows if r[0] <= times["last"]] if times["last"] < INF else rows
    return rows, times


# --- steady state -----------------------------------------------------------------------------


def paper_download_time(s):
    """The paper's steady state of Eq. (1) (Section 3, steady-state performance), with U = 0:

        1/beta = max{1/c, (1/eta)(1/mu - 1/gamma)}
        x_bar  = lambda / (beta (1 + theta/beta)),   y_bar = lambda / (gamma (1 + theta/beta))
        T      = 1 / (theta + beta)          (Little's law: T = x_bar / lambda)

    in files, i.e. 1/c = F/c bytes, 1/mu = F/mu bytes; 1/gamma is the mean seeding time. T does
    not depend on lambda: the swarm scales. With gamma <= mu (seeds stay long enough) or gamma = 0
    the seeds alone outpace the leechers' downloads and T = 1/c. Returns T in seconds.
    """
    inv_gamma = 0.0 if math.isinf(s.seed_departure) else INF if s.seed_departure == 0 else 1.0 / s.seed_departure
    if s.mu == 0 or s.eta == 0:
        upload_limited = INF
    else:
        upload_limited = (1.0 / s.eta) * (1.0 / s.mu - inv_gamma)
    inv_beta = max(1.0 / s.c, upload_limited)
    if math.isinf(inv_beta):
        return INF
    return 1.0 / (s.abort_rate + 1.0 / inv_beta)


def steady_state(s, arrival_rate):
    """The fixed point of Eq. (1) with the origin seed's U: (x_bar, y_bar, T, bottleneck).

    dx/dt = 0 gives lambda - theta x = min{c x, mu (eta x + y) + U} =: r, and dy/dt = 0 gives
    y = r / gamma. Both branches of the min grow with x and the left side falls, so x_bar is the
    larger of the two branch solutions:

        download-limited   x_c = lambda / (c + theta)
        upload-limited     x_u = (lambda (1 - mu/gamma) - U) / (eta mu + theta (1 - mu/gamma))

    and T = x_bar / lambda. With U = 0 this is paper_download_time(). x_u = inf: no steady state
    (the swarm grows without bound: free riders, theta = 0).
    """
    lam = arrival_rate
    ratio = 0.0 if math.isinf(s.seed_departure) else -INF if s.seed_departure == 0 else s.mu / s.seed_departure
    x_c = lam / (s.c + s.abort_rate)
    if math.isinf(ratio):
        x_u = -INF  # seeds never leave: they end up outpacing any download rate
    else:
        numerator = lam * (1.0 - ratio) - s.u
        denominator = s.eta * s.mu + s.abort_rate * (1.0 - ratio)
        if denominator > 0:
            x_u = numerator / denominator
        else:
            x_u = INF if numerator > 0 else -INF
    x_bar = max(x_c, x_u)
    bottleneck = "download (c)" if x_c >= x_u else "upload (eta mu + seeds)"
    served = lam - s.abort_rate * x_bar if not math.isinf(x_bar) else INF
    if math.isinf(s.seed_departure):
        y_bar = 0.0
    elif s.seed_departure == 0:
        y_bar = INF
    else:
        y_bar = served / s.seed_departure
    return x_bar, y_bar, x_bar / lam, bottleneck


# --- command line -----------------------------------------------------------------------------

UNITS = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}


def quantity(text):
    """'1.5GiB', '250k', '4096' -> a number of bytes (or bytes a second)."""
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([kKmMgGtT]i?)?[bB]?(?:/s)?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError("not a size: %r" % text)
    return float(m.group(1)) * UNITS[(m.group(2) or "").lower()]


def human(n, unit="B"):
    for factor, prefix in ((2**30, "Gi"), (2**20, "Mi"), (2**10, "Ki")):
        if abs(n) >= factor:
            return "%.3g %s%s" % (n / factor, prefix, unit)
    return "%.4g %s" % (n, unit)


def seconds(t):
    return "inf" if math.isinf(t) else "%.2f s" % t


def model_from(args):
    if args.eta is not None:
        eta, eta_note = args.eta, "given"
    else:
        pieces = args.pieces or max(2, math.ceil(args.file_size / args.piece_size))
        eta = effectiveness(pieces, args.connections)
        eta_note = "1 - (ln %d / %d)^%d" % (pieces, pieces, args.connections)
    if args.seed_time is not None:
        gamma, departure = (1.0 / args.seed_time if args.seed_time > 0 else INF), "stay %s on average" % seconds(args.seed_time)
    elif args.departure == "stay":
        gamma, departure = 0.0, "stay for good"
    else:
        gamma, departure = INF, "leave at completion"
    s = swarm(args.file_size, args.seed_upload, args.upload, args.download, eta, gamma, args.abort_rate)
    header = "F %s, origin seed U %s/s, leecher upload mu %s/s, download c %s/s, eta %.8g (%s), " \
             "finished leechers %s, abort rate theta %g/s" % (
                 human(s.file_size), human(s.seed_upload), human(s.upload), human(s.download), eta, eta_note,
                 departure, s.abort_rate)
    return s, header


def print_csv(rows, count, sync_time=None, leechers=None):
    columns = "t,leechers,seeds,completed" + (",leechers_same_rate" if sync_time is not None else "")
    print(columns)
    end = rows[-1][0]
    step = end / max(count, 1)
    next_t = 0.0
    for i, (t, x, y, done) in enumerate(rows):
        if t + 1e-12 < next_t and i != len(rows) - 1:
            continue
        line = "%.6g,%.6g,%.6g,%.6g" % (t, x, y, done)
        if sync_time is not None:
            line += ",%g" % (leechers if t < sync_time else 0)
        print(line)
        next_t += step


def run_flash(args):
    s, header = model_from(args)
    n = args.leechers
    bound = flash_crowd_bound(s, n)
    rows, times = flash_crowd_ode(s, n)
    if args.csv:
        print_csv(rows, args.csv_rows, bound["all"], n)
        return 0
    print("flash crowd: %d leechers at t = 0; %s" % (n, header))
    print("every leecher at the same rate, r = min(c, eta mu + U/N) = %s/s:" % human(bound["rate"]))
    print("  F / c                    %s   (download-limited)" % seconds(bound["download"]))
    print("  F / U                    %s   (the origin seed uploads each byte once)" % seconds(bound["seed"]))
    print("  N F / (U + eta N mu)     %s   (upload-limited)" % seconds(bound["upload"]))
    print("  time all N finish        %s" % seconds(bound["all"]))
    print("Qiu-Srikant Eq. (1) with lambda = 0, x(0) = N (completions spread, see the doc):")
    print("  50 / 90 / 99 %% completed  %s / %s / %s" % (seconds(times[0.5]), seconds(times[0.9]), seconds(times[0.99])))
    print("  fewer than 0.5 left      %s" % seconds(times["last"]))
    print("  mean download time       %s" % seconds(times["mean"]))
    return 0


def run_steady(args):
    s, header = model_from(args)
    lam = args.arrival_rate
    x_bar, y_bar, t, bottleneck = steady_state(s, lam)
    if args.csv:
        horizon = 20.0 * max(t if not math.isinf(t) else 0.0, s.file_size / s.download, 1.0)
        rows = integrate(s, 0.0, 0.0, lam, horizon, horizon / 20000.0)
        print_csv(rows, args.csv_rows)
        return 0
    print("steady state: Poisson arrivals, lambda %g/s; %s" % (lam, header))
    print("  paper (U = 0): T = 1 / (theta + beta) = %s" % seconds(paper_download_time(s)))
    print("  with the origin seed: leechers x_bar %.4g, seeds y_bar %.4g, T = x_bar / lambda = %s, bottleneck %s"
          % (x_bar, y_bar, seconds(t), bottleneck))
    seed_pieces = s.seed_upload / args.piece_size
    if math.isinf(s.seed_departure) and seed_pieces <= lam:
        # Not in the fluid model: Hajek and Zhu, "The missing piece syndrome in peer-to-peer
        # communication": peers that leave at completion are stable only if the seed uploads more
        # pieces a second than peers arrive.
        print("  warning: the origin seed uploads %.3g pieces/s <= lambda: with leechers leaving at completion a "
              "real swarm is unstable (missing piece syndrome), whatever the fluid model says" % seed_pieces)
    return 0


# --- self-test --------------------------------------------------------------------------------


def self_test():
    """Each expected number below was worked out by hand from the formulas, not by this script."""
    failures = []

    def near(what, got, want, tolerance=1e-6):
        ok = abs(got - want) <= tolerance * max(1.0, abs(want))
        print("%s %-62s got %-14.8g want %.8g" % ("ok  " if ok else "FAIL", what, got, want))
        if not ok:
            failures.append(what)

    MB = 1e6
    # Flash crowd, T_all = max{F/c, F/U, N F/(U + eta N mu)}.
    # N = 100, F = 1 MB, c = 100 kB/s, mu = 20 kB/s, U = 100 kB/s: r = min(1e5, 2e4 + 1e3) = 21 kB/s,
    # T_all = 1e6 / 2.1e4 = 47.619 s; F/c = F/U = 10 s.
    s = swarm(MB, 1e5, 2e4, 1e5)
    b = flash_crowd_bound(s, 100)
    near("flash: upload-limited T_all = 1e6/21e3", b["all"], 1e6 / 2.1e4)
    near("flash: per-leecher rate min(c, eta mu + U/N) = 21 kB/s", b["rate"], 2.1e4)
    # N = 2, mu = 100 kB/s, c = 50 kB/s: min(5e4, 1e5 + 5e4) = c, T_all = F/c = 20 s.
    near("flash: download-limited T_all = F/c = 20 s", flash_crowd_bound(swarm(MB, 1e5, 1e5, 5e4), 2)["all"], 20.0)
    # N = 1, mu = 20 kB/s, c = 1 MB/s: F/(U + mu) = 8.33 s but the seed needs F/U = 10 s.
    near("flash: seed-limited T_all = F/U = 10 s", flash_crowd_bound(swarm(MB, 1e5, 2e4, 1e6), 1)["all"], 10.0)
    # eta = 0.5 halves the leechers' useful upload: N F/(U + eta N mu) = 1e8/(1e5 + 1e6) = 90.909 s.
    near("flash: eta 0.5, T_all = 1e8/1.1e6", flash_crowd_bound(swarm(MB, 1e5, 2e4, 1e5, eta=0.5), 100)["all"], 1e8 / 1.1e6)

    # eta = 1 - (ln N / N)^k: ln 100 / 100 = 0.0460517.
    near("eta(100 pieces, k = 1) = 1 - 0.0460517", effectiveness(100, 1), 1 - 0.04605170186)
    near("eta(100 pieces, k = 4) = 1 - 0.0460517^4", effectiveness(100, 4), 1 - 0.04605170186**4)

    # Steady state, the paper: lambda = 1/s, F = 1 MB, mu = 20 kB/s (0.02 files/s), c = 100 kB/s
    # (0.1 files/s), 1/gamma = 20 s, eta = 1, theta = 0:
    # 1/beta = max{10, 50 - 20} = 30 s = T; x_bar = 30, y_bar = lambda/gamma = 20.
    s = swarm(MB, 0, 2e4, 1e5, seed_departure=0.05)
    near("steady: paper T = max{1/c, (1/eta)(1/mu - 1/gamma)} = 30 s", paper_download_time(s), 30.0)
    x_bar, y_bar, t, _ = steady_state(s, 1.0)
    near("steady: x_bar = lambda T = 30", x_bar, 30.0)
    near("steady: y_bar = lambda / gamma = 20", y_bar, 20.0)
    # theta = 0.01: T = 1/(0.01 + 1/30) = 30/1.3 = 23.0769 s.
    s_abort = swarm(MB, 0, 2e4, 1e5, seed_departure=0.05, abort_rate=0.01)
    near("steady: theta 0.01, T = 1/(theta + beta) = 30/1.3", paper_download_time(s_abort), 30 / 1.3)
    near("steady: theta 0.01, x_bar / lambda = T", steady_state(s_abort, 1.0)[2], 30 / 1.3)
    # Leave at completion (gamma = inf): T = 1/(eta mu) = 50 s. Stay (gamma = 0): T = 1/c = 10 s.
    near("steady: leave, T = F/(eta mu) = 50 s", paper_download_time(swarm(MB, 0, 2e4, 1e5)), 50.0)
    near("steady: stay, T = F/c = 10 s", paper_download_time(swarm(MB, 0, 2e4, 1e5, seed_departure=0.0)), 10.0)
    # The origin seed, U = 100 kB/s = 0.1 files/s, leave: the leechers supply 1 - 0.1 = 0.9 files/s at
    # 0.02 each: x_bar = 45, T = 45 s.
    near("steady: leave with U = 0.1 files/s, T = 0.9/0.02 = 45 s", steady_state(swarm(MB, 1e5, 2e4, 1e5), 1.0)[2], 45.0)

    # Eq. (1) integrated against its closed forms (lambda = 0, x(0) = 100, y(0) = 0).
    # Download-limited (mu = 1 MB/s, U = 0): x(t) = 100 e^{-0.1 t}; x(10) = 100/e = 36.788;
    # mean download time = 1/c = 10 s = F/c.
    s = swarm(MB, 0, 1e6, 1e5)
    rows = integrate(s, 100, 0, 0.0, 10.0, 0.01)
    near("Eq. (1) leave, download-limited: x(10) = 100/e", rows[-1][1], 100 / math.e, 1e-5)
    near("Eq. (1) leave, download-limited: mean time = F/c", flash_crowd_ode(s, 100)[1]["mean"], 10.0, 2e-3)
    # Upload-limited, leave (mu = 0.02, U = 0.1, c = 0.1 files/s): dx/dt = -(0.02 x + 0.1), so
    # x + 5 = 105 e^{-0.02 t} while 0.1 x > 0.02 x + 0.1 (x > 1.25); x(20) = 105 e^{-0.4} - 5 = 65.3836.
    s = swarm(MB, 1e5, 2e4, 1e5)
    near("Eq. (1) leave, upload-limited: x(20) = 105 e^-0.4 - 5", integrate(s, 100, 0, 0.0, 20.0, 0.01)[-1][1],
         105 * math.exp(-0.4) - 5, 1e-5)
    # Same, stay (gamma = 0): eta x + y = 100, dx/dt = -(0.02 * 100 + 0.1) = -2.1 until
    # 0.1 x = 2.1 (x = 21, t = 79/2.1 = 37.619 s); x(20) = 58; then x = 21 e^{-0.1 (t - 37.619)},
    # x(37.619 + 10) = 21/e = 7.7254.
    s = swarm(MB, 1e5, 2e4, 1e5, seed_departure=0.0)
    near("Eq. (1) stay, upload-limited: x(20) = 100 - 2.1 * 20", integrate(s, 100, 0, 0.0, 20.0, 0.01)[-1][1], 58.0, 1e-6)
    near("Eq. (1) stay: x(79/2.1 + 10) = 21/e", integrate(s, 100, 0, 0.0, 79 / 2.1 + 10, 0.001)[-1][1], 21 / math.e, 1e-3)
    # The steady state above is where Eq. (1) goes from an empty swarm: x -> 30, y -> 20.
    s = swarm(MB, 0, 2e4, 1e5, seed_departure=0.05)
    end = integrate(s, 0, 0, 1.0, 1500.0, 0.05)[-1]
    near("Eq. (1) lambda = 1 from empty: x(1500) -> 30", end[1], 30.0, 1e-4)
    near("Eq. (1) lambda = 1 from empty: y(1500) -> 20", end[2], 20.0, 1e-4)

    # Sizes on the command line.
    near("quantity('1MiB') = 2^20", quantity("1MiB"), 2**20)
    near("quantity('250kB/s') = 250000", quantity("250kB/s"), 250000)

    print("self-test: %s" % ("%d failed: %s" % (len(failures), ", ".join(failures)) if failures else "all passed"))
    return 1 if failures else 0


def main(argv):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--file-size", type=quantity, required=True, help="F, bytes")
    common.add_argument("--seed-upload", type=quantity, required=True, help="U, the origin seed's upload, bytes/s")
    common.add_argument("--upload", type=quantity, required=True, help="mu, a leecher's upload, bytes/s")
    common.add_argument("--download", type=quantity, required=True, help="c, a leecher's download, bytes/s")
    common.add_argument("--eta", type=float, help="effectiveness; default 1 - (ln P / P)^K")
    common.add_argument("--pieces", type=int, help="P; default F / --piece-size")
    common.add_argument("--piece-size", type=quantity, default=256 * 1024, help="default 256 KiB")
    common.add_argument("--connections", type=int, default=4, help="K, peers a leecher uploads to; default 4")
    common.add_argument("--departure", choices=("leave", "stay"), default="leave",
                        help="what a leecher does when it completes; default leave")
    common.add_argument("--seed-time", type=float, help="mean seconds a finished leecher stays (gamma = 1/S)")
    common.add_argument("--abort-rate", type=float, default=0.0, help="theta, a second; default 0")
    common.add_argument("--csv", action="store_true", help="print Eq. (1)'s curve as CSV")
    common.add_argument("--csv-rows", type=int, default=200)

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--self-test", action="store_true", help="check against numbers worked out by hand")
    sub = parser.add_subparsers(dest="mode")
    flash = sub.add_parser("flash", parents=[common], help="N leechers arrive at t = 0")
    flash.add_argument("--leechers", type=int, required=True, help="N")
    steady = sub.add_parser("steady", parents=[common], help="Poisson arrivals")
    steady.add_argument("--arrival-rate", type=float, required=True, help="lambda, leechers a second")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()
    if args.mode is None:
        parser.error("give flash, steady or --self-test")
    try:
        if args.mode == "flash":
            if args.leechers < 1:
                parser.error("--leechers must be at least 1")
            if args.seed_upload <= 0:
                parser.error("--seed-upload must be > 0: without the origin seed no leecher can finish")
            return run_flash(args)
        if args.arrival_rate <= 0:
            parser.error("--arrival-rate must be > 0")
        return run_steady(args)
    except ValueError as e:
        parser.error(str(e))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
