#!/usr/bin/python3
"""A libtorrent 2.0 DHT node on 127.0.0.1, driven line by line, for interop tests and benchmarks.

  lt_dht.py [--port P] [--bootstrap HOST:PORT]... [--router HOST:PORT]... [--explicit-port] [--verbose]

Prints "node_id HEX" and then "listening PORT" (the DHT's UDP port, which is also its TCP port), or
"error start TEXT" and exits 1. Then reads commands on stdin, one a line, and answers each with one
line on stdout, flushed. Every command starts with a tag of the caller's choosing (no spaces, e.g. a
counter); its answer starts with the same tag, so several commands may be in flight at once:

  TAG announce IH [PORT]            -> TAG announced IH PORT NODES STATS
  TAG get_peers IH                  -> TAG peers IH STATS complete=0|1 [HOST:PORT]...
  TAG put_immutable VALUE           -> TAG put_immutable TARGET SUCCESS_COUNT STATS
  TAG get_immutable TARGET          -> TAG item TARGET VALUE STATS  |  TAG not_found TARGET STATS
  TAG put_mutable SEED SALT VALUE   -> TAG put_mutable PUBKEY SALT SEQ SUCCESS_COUNT STATS
  TAG get_mutable PUBKEY SALT       -> TAG mutable PUBKEY SALT SEQ VALUE authoritative=0|1 STATS
                                       |  TAG not_found TARGET STATS
  TAG add_node HOST:PORT            -> TAG added HOST:PORT
  TAG nodes                         -> TAG nodes LIVE REPLACEMENTS
  TAG counters                      -> TAG counters dht.NAME=VALUE...  (libtorrent's dht.* session counters)
  TAG quit                          -> TAG bye, and the node stops

Binary fields are lowercase hex: IH, TARGET and PUBKEY (20, 20, 32 bytes), SEED (the 32-byte Ed25519
seed), VALUE (the bencoded BEP 44 `v`), SALT ("-" for none). Any command takes `deadline=MS` (default
30000): a command still waiting then answers "TAG timeout COMMAND KEY STATS", except get_peers (the
peers so far, complete=0) and get_mutable (the best value so far, authoritative=0). A command that
cannot run answers "TAG error COMMAND TEXT".

STATS, measured here per command: ms= (command read to answer), first_ms= (to the first peer or
value, -1 if none), us= and first_us= (the same in microseconds, for benchmarks), sent= (DHT queries
this node sent that carry the command's key: get_peers, announce_peer, get, put) and replies=
(answers to those queries). Two commands on one key in flight at once both count the same queries.
libtorrent also queries (and announces to) itself when another node lists it, and counts that like
any query.

What libtorrent's Python binding allows, and how this works around it:
- session.dht_announce cannot be called (its flags type has no converter). `announce` adds a magnet of
  IH as a torrent, which announces the node's own listen port: PORT, if given, must be 0 or that port.
  With uTP on (the default) libtorrent sends implied_port=1; --explicit-port turns incoming uTP off so
  that it sends the port only. The torrent never dials the peers it finds (an IP filter blocks all).
  "announced" comes once libtorrent has sent announce_peer to the NODES nodes its lookup chose (it
  logs the number first); STATS count that lookup and those announce_peer queries.
- dht_get_peers has no completion alert: completion is libtorrent's own traversal log ("COMPLETED").
- Item alerts give values only when `v` is a byte string: values are read from the DHT packets
  instead (dht_pkt_alert), so any bencoded value comes back as sent.
- dht_put_mutable_item stores a byte string and picks seq itself (one above the highest it finds):
  put_mutable's VALUE must be a bencoded byte string. libtorrent's secret key is the 64-byte expanded
  Ed25519 key, derived here from SEED, as is the public key (RFC 8032, in Python: the binding has no
  Ed25519 functions).

Routing: --bootstrap nodes are added with add_dht_node (pinged, then kept in the routing table);
--router nodes go in dht_bootstrap_nodes, which libtorrent never adds to its routing table, so a small
network of nodes that name each other as routers stays empty. Incoming announces are printed as
"incoming_announce IH HOST:PORT". Stops cleanly on SIGTERM, on "quit" and at the end of stdin. Runs only
under Debian's /usr/bin/python3.
"""
import argparse
import collections
import hashlib
import os
import re
import select
import shutil
import signal
import sys
import tempfile
import time

import libtorrent as lt

DEFAULT_DEADLINE_MS = 30000
VALUES_MAX = 1024  # raw BEP 44 values remembered from packets
QUERIES_MAX = 4096  # our outgoing queries whose answers are still counted
COMMANDS_MAX = 4096  # commands waiting at once
TORRENTS_MAX = 1000  # info-hashes announced (libtorrent re-announces each every 15 minutes)
LINE_MAX = 1 << 20  # bytes in one command line

stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True


def say(*parts):
    print(*parts, flush=True)


# --- Ed25519 public key from a seed (RFC 8032 5.1.5), and libtorrent's 64-byte secret key ---

ED_P = 2**255 - 19
ED_D = -121665 * pow(121666, ED_P - 2, ED_P) % ED_P


def ed_add(a, b):
    # Extended twisted Edwards coordinates (X, Y, Z, T), as in RFC 8032's reference code.
    p = ED_P
    aa = (a[1] - a[0]) * (b[1] - b[0]) % p
    bb = (a[1] + a[0]) * (b[1] + b[0]) % p
    cc = 2 * a[3] * b[3] * ED_D % p
    dd = 2 * a[2] * b[2] % p
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def ed_base():
    p = ED_P
    y = 4 * pow(5, p - 2, p) % p
    x2 = (y * y - 1) * pow(ED_D * y * y + 1, p - 2, p) % p
    x = pow(x2, (p + 3) // 8, p)
    if (x * x - x2) % p != 0:
        x = x * pow(2, (p - 1) // 4, p) % p
    if x & 1:
        x = p - x
    return (x, y, 1, x * y % p)


def ed25519_keypair(seed):
    """Returns (secret, public): libtorrent's expanded secret key (SHA-512 of the seed, clamped) and
    the 32-byte public key. Signing is deterministic, so libsodium signs the same from the seed."""
    h = bytearray(hashlib.sha512(seed).digest())
    h[0] &= 248
    h[31] &= 63
    h[31] |= 64
    scalar = int.from_bytes(h[:32], "little")
    q, point = (0, 1, 1, 0), ed_base()
    while scalar:
        if scalar & 1:
            q = ed_add(q, point)
        point = ed_add(point, point)
        scalar >>= 1
    z = pow(q[2], ED_P - 2, ED_P)
    x, y = q[0] * z % ED_P, q[1] * z % ED_P
    return bytes(h), (y | ((x & 1) << 255)).to_bytes(32, "little")


# --- the session ---

def make_session(args):
    settings = {
        "listen_interfaces": "127.0.0.1:%d" % args.port,
        "enable_dht": True,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        # All nodes share 127.0.0.1: without these, one node per /24 per bucket and per lookup.
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_enforce_node_id": False,
        "dht_prefer_verified_node_ids": False,
        # The default blocks a source after 50 packets in 10 s, for 5 minutes: every node here is one source.
        "dht_block_ratelimit": 1000000,
        # The default 8000 B/s drops answers to a busy benchmark.
        "dht_upload_rate_limit": 100000000,
        # Empty, else libtorrent resolves and queries dht.libtorrent.org and others.
        "dht_bootstrap_nodes": ",".join(args.router),
        "enable_incoming_utp": not args.explicit_port,
        "alert_queue_size": 100000,
        "alert_mask": lt.alert.category_t.dht_notification | lt.alert.category_t.dht_operation_notification
        | lt.alert.category_t.dht_log_notification | lt.alert.category_t.status_notification
        | lt.alert.category_t.error_notification,
        "user_agent": "libtorrent-interop",
    }
    s = lt.session(settings)
    # Torrents exist only to announce: they may dial nobody, and nobody may dial them. The DHT
    # does not look at the IP filter.
    block_all = lt.ip_filter()
    block_all.add_rule("0.0.0.0", "255.255.255.255", 1)
    block_all.add_rule("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1)
    s.set_ip_filter(block_all)
    return s


def parse_endpoint(text):
    host, port = text.rsplit(":", 1)
    return host.strip("[]"), int(port)


def endpoint_text(ep):
    host, port = ep[0], ep[1]
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def unhex(text, size=None, what="field"):
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError("%s is not hex" % what)
    if size is not None and len(raw) != size:
        raise ValueError("%s must be %d bytes" % (what, size))
    return raw


def salt_from(text):
    return b"" if text == "-" else unhex(text, what="salt")


def salt_text(salt):
    return salt.hex() if salt else "-"


def try_get(getter):
    """An alert attribute, or None: std::string fields fail to convert when they are not UTF-8, and
    entry fields when they are not strings."""
    try:
        return getter()
    except Exception:
        return None


class Op:
    """A command waiting for libtorrent: what it waits for (`key`, 20 bytes), until when, and what
    was measured for it."""

    def __init__(self, tag, command, key, deadline_ms):
        self.tag = tag
        self.command = command
        self.key = key
        self.start = time.monotonic()
        self.deadline = self.start + deadline_ms / 1000.0
        self.first = None
        self.sent = 0
        self.replies = 0
        self.traversal = None  # libtorrent's traversal id, for get_peers
        self.peers = []
        self.best = None  # get_mutable: (seq, value) with the highest seq so far
        self.extra = {}
        self.last_force = self.start

    def found(self):
        if self.first is None:
            self.first = time.monotonic()

    def stats(self):
        now = time.monotonic()
        first_us = -1 if self.first is None else int((self.first - self.start) * 1000000)
        return "ms=%d first_ms=%d sent=%d replies=%d us=%d first_us=%d" % (
            int((now - self.start) * 1000), first_us // 1000 if first_us >= 0 else -1, self.sent, self.replies,
            int((now - self.start) * 1000000), first_us)


NEW_TRAVERSAL = re.compile(r"^\[(\d+)\] NEW target: ([0-9a-f]{40})")
COMPLETED = re.compile(r"^\[(\d+)\] COMPLETED .* type: (\S+)")
SENDING_ANNOUNCE = re.compile(r"sending announce_peer \[ ih: ([0-9a-f]{40})\s+p: (\d+) nodes: (\d+)")
NODE_ID = re.compile(r"DHT tracker with node id: ([0-9a-f]{40})")


class Node:
    def __init__(self, session, save_dir, verbose):
        self.s = session
        self.save_dir = save_dir
        self.verbose = verbose
        self.port = 0
        self.node_id = None
        self.ops = []
        self.torrents = {}  # info-hash -> handle, for announces
        self.values = collections.OrderedDict()  # SHA-1 of v (immutable) or sig (mutable) -> bencoded v
        self.queries = collections.OrderedDict()  # transaction id of a query we sent -> ops counting it
        self.quit = False

    # --- commands ---

    def command(self, line):
        words = line.split()
        if not words:
            return
        if len(words) < 2:
            say("-", "error", words[0], 'expected "TAG COMMAND ARGS..."')
            return
        tag, name = words[0], words[1]
        options = dict(w.split("=", 1) for w in words[2:] if "=" in w)
        args = [w for w in words[2:] if "=" not in w]
        handler = getattr(self, "cmd_" + name, None)
        if handler is None:
            say(tag, "error", name, "unknown command")
            return
        try:
            deadline_ms = int(options.get("deadline", DEFAULT_DEADLINE_MS))
            handler(tag, args, deadline_ms)
        except (ValueError, IndexError, RuntimeError) as e:
            say(tag, "error", name, str(e).replace("\n", " ") or type(e).__name__)

    def add_op(self, tag, command, key, deadline_ms):
        if len(self.ops) >= COMMANDS_MAX:
            raise ValueError("%d commands are waiting already" % COMMANDS_MAX)
        op = Op(tag, command, key, deadline_ms)
        self.ops.append(op)
        return op

    def finish(self, op, *parts):
        if op in self.ops:
            self.ops.remove(op)
        say(op.tag, *parts)

    def cmd_announce(self, tag, args, deadline_ms):
        ih = unhex(args[0], 20, "info-hash")
        if not any(ih):
            raise ValueError("libtorrent takes an all-zero info-hash for none")
        if len(args) > 1 and int(args[1]) not in (0, self.port):
            raise ValueError("libtorrent announces its own port %d only" % self.port)
        self.add_op(tag, "announce", ih, deadline_ms)
        handle = self.torrents.get(ih)
        if handle is None:
            if len(self.torrents) >= TORRENTS_MAX:
                self.ops.pop()
                raise ValueError("announces %d info-hashes already" % TORRENTS_MAX)
            params = lt.parse_magnet_uri("magnet:?xt=urn:btih:" + ih.hex())
            params.save_path = self.save_dir
            # Started at once: an auto-managed torrent starts paused, and a paused one does not announce.
            params.flags &= ~lt.torrent_flags.auto_managed
            params.flags &= ~lt.torrent_flags.paused
            # A torrent announces as it starts; tick() asks again if it does not.
            self.torrents[ih] = self.s.add_torrent(params)
        else:
            handle.force_dht_announce()

    def cmd_get_peers(self, tag, args, deadline_ms):
        ih = unhex(args[0], 20, "info-hash")
        self.add_op(tag, "get_peers", ih, deadline_ms)
        self.s.dht_get_peers(lt.sha1_hash(ih))

    def cmd_put_immutable(self, tag, args, deadline_ms):
        raw = unhex(args[0], what="value")
        value = lt.bdecode(raw)
        if lt.bencode(value) != raw:
            raise ValueError("value is not canonical bencoding")
        op = self.add_op(tag, "put_immutable", hashlib.sha1(raw).digest(), deadline_ms)
        target = self.s.dht_put_immutable_item(value)
        if target.to_bytes() != op.key:
            self.ops.remove(op)
            raise ValueError("libtorrent's target %s differs from SHA-1 of the value" % target)

    def cmd_get_immutable(self, tag, args, deadline_ms):
        target = unhex(args[0], 20, "target")
        self.add_op(tag, "get_immutable", target, deadline_ms)
        self.s.dht_get_immutable_item(lt.sha1_hash(target))

    def cmd_put_mutable(self, tag, args, deadline_ms):
        secret, public = ed25519_keypair(unhex(args[0], 32, "seed"))
        salt = salt_from(args[1])
        data = lt.bdecode(unhex(args[2], what="value"))
        if not isinstance(data, bytes):
            raise ValueError("libtorrent's binding puts byte strings only: value must be a bencoded string")
        op = self.add_op(tag, "put_mutable", hashlib.sha1(public + salt).digest(), deadline_ms)
        op.extra = {"public": public, "salt": salt}
        self.s.dht_put_mutable_item(secret, public, data, salt)

    def cmd_get_mutable(self, tag, args, deadline_ms):
        public = unhex(args[0], 32, "public key")
        salt = salt_from(args[1])
        op = self.add_op(tag, "get_mutable", hashlib.sha1(public + salt).digest(), deadline_ms)
        op.extra = {"public": public, "salt": salt}
        self.s.dht_get_mutable_item(public, salt)

    def cmd_add_node(self, tag, args, deadline_ms):
        host, port = parse_endpoint(args[0])
        self.s.add_dht_node((host, port))
        say(tag, "added", args[0])

    def cmd_nodes(self, tag, args, deadline_ms):
        self.add_op(tag, "nodes", b"", deadline_ms)
        self.s.post_dht_stats()

    def cmd_counters(self, tag, args, deadline_ms):
        self.add_op(tag, "counters", b"", deadline_ms)
        self.s.post_session_stats()

    def cmd_quit(self, tag, args, deadline_ms):
        say(tag, "bye")
        self.quit = True

    # --- alerts ---

    def alert(self, a):
        kind = type(a)
        if kind is lt.dht_pkt_alert:
            self.on_packet(a)
        elif kind is lt.dht_log_alert:
            self.on_log(try_get(a.log_message) or "")
        elif kind is lt.dht_get_peers_reply_alert:
            ih = a.info_hash.to_bytes()
            for op in self.waiting("get_peers", ih):
                op.found()
                for ep in a.peers():
                    text = endpoint_text(ep)
                    if text not in op.peers:
                        op.peers.append(text)
        elif kind is lt.dht_put_alert:
            self.on_put(a)
        elif kind is lt.dht_immutable_item_alert:
            self.on_immutable(a)
        elif kind is lt.dht_mutable_item_alert:
            self.on_mutable(a)
        elif kind is lt.dht_stats_alert:
            live = sum(b["num_nodes"] for b in a.routing_table)
            replacements = sum(b["num_replacements"] for b in a.routing_table)
            for op in self.waiting("nodes"):
                self.finish(op, "nodes", live, replacements)
        elif kind is lt.session_stats_alert:
            values = a.values
            text = " ".join("%s=%d" % (k, v) for k, v in sorted(values.items()) if k.startswith("dht."))
            for op in self.waiting("counters"):
                self.finish(op, "counters", text)
        elif kind is lt.dht_announce_alert:
            say("incoming_announce", str(a.info_hash), endpoint_text((str(a.ip), a.port)))
        elif kind is lt.listen_failed_alert:
            say("log", "error", alert_text(a))

    def waiting(self, command, key=None):
        return [op for op in list(self.ops) if op.command == command and (key is None or op.key == key)]

    def on_log(self, text):
        if self.verbose:
            say("log", text)
        m = NEW_TRAVERSAL.match(text)
        if m:
            # A get_peers lookup of ours starts: remember its traversal id, to see it complete.
            key = bytes.fromhex(m.group(2))
            for op in self.waiting("get_peers", key):
                if op.traversal is None:
                    op.traversal = m.group(1)
                    break
            return
        m = COMPLETED.match(text)
        if m:
            for op in self.waiting("get_peers"):
                if op.traversal == m.group(1):
                    self.finish(op, "peers", op.key.hex(), op.stats(), "complete=1", *op.peers)
            return
        m = SENDING_ANNOUNCE.search(text)
        if m:
            # libtorrent sends announce_peer to NODES nodes next: answer once they are sent.
            for op in self.waiting("announce", bytes.fromhex(m.group(1))):
                if "nodes" not in op.extra:
                    op.extra.update(port=int(m.group(2)), nodes=int(m.group(3)), announces=0,
                                    logged=time.monotonic())
                    self.announce_sent(op)
            return
        m = NODE_ID.search(text)
        if m:
            self.node_id = m.group(1)

    def on_packet(self, a):
        try:
            msg = lt.bdecode(a.pkt_buf)
        except RuntimeError:
            return
        if not isinstance(msg, dict):
            return
        kind = msg.get(b"y")
        if kind == b"q":
            key = query_key(msg)
            ops = [op for op in self.ops if key is not None and op.key == key]
            if ops and outgoing(a):
                for op in ops:
                    op.sent += 1
                    if msg.get(b"q") == b"announce_peer" and "nodes" in op.extra:
                        op.extra["announces"] += 1
                        self.announce_sent(op)
                self.queries[msg.get(b"t")] = ops
                while len(self.queries) > QUERIES_MAX:
                    self.queries.popitem(last=False)
        elif kind in (b"r", b"e"):
            ops = self.queries.get(msg.get(b"t"))
            if ops is not None and not outgoing(a):
                del self.queries[msg.get(b"t")]
                for op in ops:
                    op.replies += 1
            answer = msg.get(b"r")
            if isinstance(answer, dict) and b"v" in answer:
                raw = lt.bencode(answer[b"v"])
                sig = answer.get(b"sig")
                self.values[sig if isinstance(sig, bytes) else hashlib.sha1(raw).digest()] = raw
                while len(self.values) > VALUES_MAX:
                    self.values.popitem(last=False)

    def announce_sent(self, op, late=False):
        if op.extra["announces"] >= op.extra["nodes"] or late:
            self.finish(op, "announced", op.key.hex(), op.extra["port"], op.extra["nodes"], op.stats())

    def on_put(self, a):
        target = a.target.to_bytes()
        if any(target):
            for op in self.waiting("put_immutable", target):
                self.finish(op, "put_immutable", target.hex(), a.num_success, op.stats())
            return
        public = a.public_key
        salt = try_get(lambda: a.salt)  # not readable when not UTF-8
        for op in self.waiting("put_mutable"):
            if op.extra["public"] == public and (salt is None or salt.encode() == op.extra["salt"]):
                self.finish(op, "put_mutable", public.hex(), salt_text(op.extra["salt"]), a.seq, a.num_success,
                            op.stats())
                break

    def on_immutable(self, a):
        target = a.target.to_bytes()
        raw = self.values.get(target)
        if raw is None:
            item = try_get(lambda: a.item)
            if item is not None:
                raw = lt.bencode(item["value"])
        # Not found: libtorrent answers once its lookup ends, with an empty item.
        missing = raw is None and alert_text(a).rstrip().endswith("<uninitialized> ]")
        for op in self.waiting("get_immutable", target):
            if raw is not None:
                op.found()
                self.finish(op, "item", target.hex(), raw.hex(), op.stats())
            elif missing:
                self.finish(op, "not_found", target.hex(), op.stats())
            else:
                self.finish(op, "error", "get_immutable", "found a value it cannot read", op.stats())

    def on_mutable(self, a):
        public = a.key
        item = try_get(lambda: a.item)
        salt = item["salt"] if item is not None else None
        # Not found (yet): an empty item, whose signature may still be one libtorrent rejected.
        raw = None
        if not alert_text(a).rstrip().endswith("<uninitialized> ]"):
            raw = self.values.get(a.signature)
            if raw is None and item is not None:
                raw = lt.bencode(item["value"])
        for op in self.waiting("get_mutable"):
            if op.extra["public"] != public or (salt is not None and salt != op.extra["salt"]):
                continue
            if raw is not None:
                op.found()
                if op.best is None or a.seq > op.best[0]:
                    op.best = (a.seq, raw)
            if not a.authoritative:
                continue
            if op.best is not None:
                self.finish(op, "mutable", public.hex(), salt_text(op.extra["salt"]), op.best[0], op.best[1].hex(),
                            "authoritative=1", op.stats())
            else:
                self.finish(op, "not_found", op.key.hex(), op.stats())

    # --- deadlines ---

    def tick(self):
        now = time.monotonic()
        for op in list(self.ops):
            if now >= op.deadline:
                if op.command == "get_peers":
                    self.finish(op, "peers", op.key.hex(), op.stats(), "complete=0", *op.peers)
                elif op.command == "get_mutable" and op.best is not None:
                    self.finish(op, "mutable", op.extra["public"].hex(), salt_text(op.extra["salt"]), op.best[0],
                                op.best[1].hex(), "authoritative=0", op.stats())
                else:
                    self.finish(op, "timeout", op.command, op.key.hex() or "-", op.stats())
            elif op.command == "announce" and "nodes" in op.extra:
                if now - op.extra["logged"] >= 0.5:
                    self.announce_sent(op, late=True)  # some announce_peer never left
            elif op.command == "announce" and now - op.last_force >= 1.0:
                # A torrent not yet started ignores force_dht_announce: ask again.
                op.last_force = now
                self.torrents[op.key].force_dht_announce()

    def next_wait(self):
        deadlines = [op.deadline for op in self.ops] + [time.monotonic() + 0.5]
        return max(0.0, min(deadlines) - time.monotonic())


def query_key(msg):
    """The 20-byte key a DHT query is about: info_hash, target, or the target of a put's item."""
    args = msg.get(b"a")
    if not isinstance(args, dict):
        return None
    query = msg.get(b"q")
    if query in (b"get_peers", b"announce_peer"):
        return args.get(b"info_hash")
    if query == b"get":
        return args.get(b"target")
    if query == b"put" and b"v" in args:
        if b"k" in args:
            return hashlib.sha1(args[b"k"] + args.get(b"salt", b"")).digest()
        return hashlib.sha1(lt.bencode(args[b"v"])).digest()
    return None


def alert_text(a):
    """The alert's message, even when it holds bytes that are not UTF-8 (a binary salt)."""
    try:
        return a.message()
    except UnicodeDecodeError as e:
        return e.object.decode("latin-1")


def outgoing(a):
    # Only the alert's text tells the direction: "==> [endpoint]" out, "<== [endpoint]" in.
    return alert_text(a).startswith("==>")


def wait_until_listening(s, node):
    """Waits for the UDP socket and the DHT on it; returns the port, or an error text."""
    deadline = time.time() + 15
    udp_port = 0
    while time.time() < deadline and not stopping:
        for a in s.pop_alerts():
            if isinstance(a, lt.listen_failed_alert):
                return None, alert_text(a)
            if isinstance(a, lt.listen_succeeded_alert) and a.socket_type == lt.socket_type_t.utp:
                udp_port = a.port
            if isinstance(a, lt.dht_log_alert):
                node.on_log(try_get(a.log_message) or "")
        if udp_port and node.node_id:
            return udp_port, None
        s.wait_for_alert(100)
    return None, "no DHT on a UDP socket within 15 s"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bootstrap", action="append", default=[])
    parser.add_argument("--router", action="append", default=[])
    parser.add_argument("--explicit-port", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    save_dir = tempfile.mkdtemp(prefix="lt-dht-")
    s = make_session(args)
    node = Node(s, save_dir, args.verbose)
    try:
        port, error = wait_until_listening(s, node)
        if port is None:
            say("error", "start", error)
            return 1
        node.port = port
        say("node_id", node.node_id)
        say("listening", port)
        for text in args.bootstrap:
            s.add_dht_node(parse_endpoint(text))

        # One loop: select wakes on a command, on libtorrent's alert notice, on a signal, or on the
        # next deadline. libtorrent writes to the pipe from its own thread, so it must not block.
        wake_read, wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        s.set_alert_fd(wake_write)
        signal.set_wakeup_fd(wake_write)
        os.set_blocking(0, False)
        pending = b""
        stdin_open = True
        while not stopping and not node.quit:
            watched = [wake_read, 0] if stdin_open else [wake_read]
            ready, _, _ = select.select(watched, [], [], node.next_wait())
            if wake_read in ready:
                try:
                    while os.read(wake_read, 4096):
                        pass
                except BlockingIOError:
                    pass
            if 0 in ready:
                try:
                    chunk = os.read(0, 65536)
                except BlockingIOError:
                    chunk = None
                if chunk == b"":
                    stdin_open = False
                    break
                if chunk:
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    if len(pending) > LINE_MAX:
                        say("-", "error", "-", "line longer than %d bytes dropped" % LINE_MAX)
                        pending = b""
                    for line in lines:
                        node.command(line.decode("utf-8", "replace"))
                        if node.quit:
                            break
            for a in s.pop_alerts():
                node.alert(a)
            node.tick()
        return 0
    except BrokenPipeError:
        return 0  # whoever reads our answers is gone
    finally:
        s.set_alert_notify(lambda: None)
        s.pause()
        del s
        shutil.rmtree(save_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
