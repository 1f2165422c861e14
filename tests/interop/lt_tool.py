#!/usr/bin/python3
"""libtorrent 2.0 (python3-libtorrent) as a reference tool for interop tests.

  lt_tool.py info FILE.torrent             -> JSON: v1/v2 info-hashes, name, size, files
  lt_tool.py create PATH OUT PIECE MODE    -> writes a torrent; MODE is v1, hybrid or v2
Runs only under Debian's /usr/bin/python3, where the binding is installed.
"""
import json
import os
import sys

import libtorrent as lt


def info(path):
    try:
        ti = lt.torrent_info(path)
    except RuntimeError as e:
        print(json.dumps({"error": str(e)}))
        return
    hashes = ti.info_hashes()
    fs = ti.files()
    print(json.dumps({
        "v1": str(hashes.v1) if hashes.has_v1() else None,
        "v2": str(hashes.v2) if hashes.has_v2() else None,
        "name": ti.name(),
        "total_size": ti.total_size(),
        "piece_length": ti.piece_length(),
        "num_pieces": ti.num_pieces(),
        "files": [fs.file_path(i) for i in range(fs.num_files()) if not fs.file_flags(i) & lt.file_storage.flag_pad_file],
    }))


def create(path, out, piece_size, mode):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    flags = {"v1": lt.create_torrent.v1_only, "hybrid": 0, "v2": lt.create_torrent.v2_only}[mode]
    ct = lt.create_torrent(fs, int(piece_size), flags=flags)
    ct.add_tracker("http://127.0.0.1:1/announce")
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(path)))
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))


if __name__ == "__main__":
    if sys.argv[1] == "info":
        info(sys.argv[2])
    elif sys.argv[1] == "create":
        create(*sys.argv[2:6])
    else:
        sys.exit("usage: lt_tool.py info FILE | create PATH OUT PIECE MODE")
