#!/usr/bin/python3
"""A libtorrent 2.0 peer on 127.0.0.1 for interop tests and benchmarks (TCP only: uTP off).

  lt_peer.py seed TORRENT SAVE_DIR [--port P] [--connect HOST:PORT]... [--upload-limit B/S]
  lt_peer.py get TORRENT|MAGNET SAVE_DIR [--port P] [--connect HOST:PORT]... [--seed-after]

Either takes --dht HOST:PORT (repeatable): then its DHT runs on 127.0.0.1 (loopback restrictions
off), joins through those nodes and announces the torrent every 5 s.

Prints one line per event on stdout, flushed: "listening PORT",
"progress PCT DOWN_RATE PEERS UPLOADED_TOTAL",
"finished", "error TEXT". `get` exits 0 once every piece is verified (unless --seed-after).
Stops cleanly on SIGTERM. Runs only under Debian's /usr/bin/python3.
"""
import argparse
import signal
import sys
import time

import libtorrent as lt

stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True


def say(*parts):
    print(*parts, flush=True)


def session(port, dht_nodes=()):
    settings = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        # Hyphae does not speak MSE/PE (BEP 8 encryption) yet: dial in plaintext.
        "out_enc_policy": int(lt.enc_policy.disabled),
        "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification
        | lt.alert.category_t.port_mapping_notification,
        "user_agent": "libtorrent-interop",
    }
    if dht_nodes:
        settings.update({
            "enable_dht": True,
            "dht_bootstrap_nodes": "",  # not the public routers; the given nodes are added below
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_enforce_node_id": False,
            "dht_prefer_verified_node_ids": False,
            "dht_block_ratelimit": 100000,
            "dht_announce_interval": 5,
        })
    s = lt.session(settings)
    for node in dht_nodes:
        host, node_port = node.rsplit(":", 1)
        s.add_dht_node((host, int(node_port)))
    # listen_port() answers before the session's first "reopen listen sockets", which closes the
    # socket for a moment: wait for the TCP listen_succeeded alert that follows it.
    deadline = time.time() + 10
    while time.time() < deadline:
        if any(isinstance(a, lt.listen_succeeded_alert) and "TCP" in a.message() for a in s.pop_alerts()):
            break
        s.wait_for_alert(100)
    return s


def add(s, source, save_dir, seed):
    if source.startswith("magnet:"):
        params = lt.parse_magnet_uri(source)
    else:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(source)
    params.save_path = save_dir
    # Started at once: an auto-managed torrent starts paused, and drops peers until it runs.
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    if seed:
        params.flags |= lt.torrent_flags.seed_mode
    return s.add_torrent(params)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["seed", "get"])
    parser.add_argument("source")
    parser.add_argument("save_dir")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--connect", action="append", default=[])
    parser.add_argument("--seed-after", action="store_true")
    parser.add_argument("--upload-limit", type=int, default=0)
    parser.add_argument("--dht", action="append", default=[])
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    s = session(args.port, args.dht)
    handle = add(s, args.source, args.save_dir, args.mode == "seed")
    if args.upload_limit:
        # A torrent's own limit holds for every peer; the session's spares loopback peers.
        handle.set_upload_limit(args.upload_limit)
    # Say "listening" only once the torrent takes connections, or peers get turned away.
    for _ in range(200):
        if handle.status().state in (lt.torrent_status.seeding, lt.torrent_status.downloading,
                                     lt.torrent_status.downloading_metadata, lt.torrent_status.finished):
            break
        time.sleep(0.05)
    say("listening", s.listen_port())
    for peer in args.connect:
        host, port = peer.rsplit(":", 1)
        handle.connect_peer((host, int(port)))

    finished_said = False
    last_progress = 0.0
    while not stopping:
        for alert in s.pop_alerts():
            if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
                say("error", alert.message())
        st = handle.status()
        now = time.time()
        if now - last_progress >= 0.5:
            say("progress", "%.1f" % (st.progress * 100), int(st.download_rate), st.num_peers,
                st.total_payload_upload)
            last_progress = now
        if args.mode == "get" and st.is_seeding and not finished_said:
            finished_said = True
            say("finished")
            if not args.seed_after:
                break
        # Reconnect to the given peers while we have none (they may start after us).
        if st.num_peers == 0 and args.connect and int(now * 2) % 4 == 0:
            for peer in args.connect:
                host, port = peer.rsplit(":", 1)
                handle.connect_peer((host, int(port)))
        s.wait_for_alert(100)
    st = handle.status()
    say("uploaded", st.total_payload_upload)
    s.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
