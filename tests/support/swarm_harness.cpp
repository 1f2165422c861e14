#include "swarm_harness.hpp"

#include <algorithm>

namespace hyphae::test {
using namespace hyphae::bittorrent;

disk_result memory_storage::run(const disk_job& job) {
    disk_result r;
    const std::size_t offset =
        static_cast<std::size_t>(static_cast<std::int64_t>(job.piece) * meta_.piece_length) + job.begin;
    switch (job.what) {
        case disk_job::kind::write:
            std::copy(job.data->begin(), job.data->end(),
                      content_.begin() + static_cast<std::ptrdiff_t>(offset));
            break;
        case disk_job::kind::read: {
            std::vector<std::uint8_t> bytes(
                content_.begin() + static_cast<std::ptrdiff_t>(offset),
                content_.begin() + static_cast<std::ptrdiff_t>(offset + job.length));
            if (corrupt_all || (corrupt_piece && *corrupt_piece == job.piece)) {
                bytes[0] ^= 0xff;
            }
            r.data = std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
            break;
        }
        case disk_job::kind::hash:
            r.hash = sha1(as_bytes(std::string_view(content_).substr(offset, job.length)));
            break;
    }
    return r;
}

std::size_t swarm_harness::add(std::unique_ptr<torrent> core, std::unique_ptr<memory_storage> storage,
                               endpoint address, node_options options) {
    nodes_.push_back(member{std::move(core), std::move(storage), address, options, {}});
    const std::size_t index = nodes_.size() - 1;
    schedule(duration::zero(), [this, index] { drain(index); });
    return index;
}

void swarm_harness::schedule(duration after, std::function<void()> action) {
    queue_.push(scheduled{now_ + after, order_++, std::move(action)});
}

std::optional<swarm_harness::link_end> swarm_harness::peer_of(std::size_t node, connection_id conn) const {
    auto it = links_.find({node, conn});
    if (it == links_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void swarm_harness::drain(std::size_t index) {
    member& n = nodes_[index];
    torrent& core = *n.core;
    while (auto out = core.poll_transmit()) {
        const auto conn = static_cast<connection_id>(conn_of(*out));
        if (auto* c = std::get_if<io::connect>(&*out)) {
            auto target = std::find_if(nodes_.begin(), nodes_.end(),
                                       [&](const member& other) { return other.address == c->remote; });
            if (target == nodes_.end()) {
                schedule(latency_, [this, index, conn] {
                    nodes_[index].core->on_closed(now_, conn, "connection refused");
                    drain(index);
                });
                continue;
            }
            const std::size_t other = static_cast<std::size_t>(target - nodes_.begin());
            schedule(latency_, [this, index, other, conn] {
                auto accepted = nodes_[other].core->add_incoming(now_, nodes_[index].address);
                if (!accepted) {
                    nodes_[index].core->on_closed(now_, conn, "connection refused");
                    drain(index);
                    return;
                }
                links_[{index, conn}] = link_end{other, *accepted};
                links_[{other, *accepted}] = link_end{index, conn};
                nodes_[index].core->on_connected(now_, conn);
                drain(index);
                drain(other);
            });
        } else if (auto* t = std::get_if<io::send>(&*out)) {
            auto to = peer_of(index, conn);
            std::string bytes;
            std::size_t total = 0;
            for (const out_buffer& b : t->data) {
                bytes.append(as_chars(b.bytes));
                total += b.bytes.size();
            }
            duration on_wire = duration::zero();
            if (n.options.upload_bytes_per_second > 0) {
                const time_point start = std::max(now_, n.upload_free_at);
                n.upload_free_at =
                    start + std::chrono::duration_cast<duration>(std::chrono::duration<double>(
                                static_cast<double>(total) / n.options.upload_bytes_per_second));
                on_wire = n.upload_free_at - now_;
            }
            schedule(on_wire, [this, index, conn, total] {
                nodes_[index].core->on_send_done(now_, conn, total);
                drain(index);
            });
            if (!to) {
                continue;
            }
            const link_end dest = *to;
            schedule(on_wire + latency_, [this, dest, bytes = std::move(bytes)] {
                if (!links_.count({dest.node, dest.conn})) {
                    return;
                }
                nodes_[dest.node].core->on_stream_bytes(now_, dest.conn, as_bytes(bytes));
                drain(dest.node);
            });
        } else if (std::holds_alternative<io::close>(*out)) {
            auto to = peer_of(index, conn);
            links_.erase({index, conn});
            if (to) {
                links_.erase({to->node, to->conn});
                const link_end dest = *to;
                schedule(latency_, [this, dest] {
                    nodes_[dest.node].core->on_closed(now_, dest.conn, "closed by the peer");
                    drain(dest.node);
                });
            }
        }
    }
    while (auto job = core.poll_disk_job()) {
        const disk_job j = *job;
        schedule(n.options.disk_latency, [this, index, j] {
            const disk_result r = nodes_[index].storage->run(j);
            nodes_[index].core->on_disk_done(now_, j.id, r);
            drain(index);
        });
    }
    while (auto e = core.poll_event()) {
        n.events.push_back(std::move(*e));
    }
    if (auto timer = core.next_timer()) {
        const time_point at = std::max(*timer, now_);
        queue_.push(scheduled{at, order_++, [this, index, at] {
                                  if (nodes_[index].core->next_timer() == at) {
                                      nodes_[index].core->on_timer(now_);
                                      drain(index);
                                  }
                              }});
    }
}

bool swarm_harness::run_until(const std::function<bool()>& done, duration deadline) {
    const time_point end = now_ + deadline;
    while (!done()) {
        if (queue_.empty()) {
            return false;
        }
        scheduled next = queue_.top();
        if (next.at > end) {
            now_ = end;
            return false;
        }
        queue_.pop();
        now_ = std::max(now_, next.at);
        next.action();
    }
    return true;
}

void swarm_harness::disconnect(std::size_t node) {
    std::vector<std::pair<std::size_t, connection_id>> ends;
    for (const auto& [key, other] : links_) {
        if (key.first == node) {
            ends.push_back(key);
        }
    }
    for (const auto& key : ends) {
        const link_end other = links_.at(key);
        links_.erase(key);
        links_.erase({other.node, other.conn});
        nodes_[node].core->on_closed(now_, key.second, "crashed");
        schedule(latency_, [this, other] {
            nodes_[other.node].core->on_closed(now_, other.conn, "connection reset");
            drain(other.node);
        });
    }
}

}  // namespace hyphae::test
