#include "hyphae_fleet.hpp"

#include <stdexcept>

#include "hyphae/runtime/runtime_clock.hpp"

namespace hyphae::bench {

hyphae_fleet::hyphae_fleet(std::uint64_t seed)
    : seed_(seed), work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}

hyphae_fleet::~hyphae_fleet() {
    // The runtimes and sockets go on the loop thread, which then ends.
    run_on_loop([this] {
        for (auto& m : members_) {
            if (m->runtime) {
                m->runtime->close();
            }
            if (m->black_hole) {
                asio::error_code ignored;
                m->black_hole->close(ignored);
            }
        }
    });
    work_.reset();
    io_.stop();
    thread_.join();
    for (auto& m : members_) {
        m->runtime.reset();
        m->black_hole.reset();
    }
}

void hyphae_fleet::run_on_loop(const std::function<void()>& f) {
    if (std::this_thread::get_id() == thread_.get_id()) {
        f();
        return;
    }
    std::promise<void> finished;
    auto result = finished.get_future();
    asio::post(io_, [&] {
        try {
            f();
            finished.set_value();
        } catch (...) {
            finished.set_exception(std::current_exception());
        }
    });
    result.get();
}

void hyphae_fleet::start(std::size_t count, const dht::dht_config& config) {
    run_on_loop([&] {
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t index = members_.size();
            auto m = std::make_unique<member>(*this, index);
            m->dht = m->h.add(runtime_now(), std::make_unique<dht::dht_node>(config, seed_ * 1000003 + index,
                                                                             runtime_now()));
            runtime_config rc;
            rc.bind_address = "127.0.0.1";
            rc.udp = runtime_config::udp_mode::port;
            rc.udp_socket_buffer_bytes = 1 << 20;
            rc.udp_batch = 8;  // twenty nodes in one process: small batch buffers each
            m->runtime = std::make_unique<host_runtime>(m->h, rc, m.get(), io_);
            auto opened = m->runtime->open();
            if (!opened) {
                throw std::runtime_error("hyphae node " + std::to_string(index) + ": " +
                                         opened.error().message());
            }
            endpoints_.push_back(*m->runtime->udp_endpoint());
            ids_.push_back(m->node().id());
            members_.push_back(std::move(m));
        }
    });
}

void hyphae_fleet::join(std::size_t i, const std::vector<endpoint>& bootstrap,
                        const std::vector<dht::node_contact>& contacts) {
    run_on_loop([&] {
        member& m = *members_.at(i);
        m.call([&](dht::dht_node& n) {
            for (const auto& ep : bootstrap) {
                n.add_bootstrap(ep);
            }
            n.add_contacts(runtime_now(), contacts);
            return n.bootstrap(runtime_now());
        });
    });
}

dht::lookup_id hyphae_fleet::start_lookup(std::size_t i, dht::lookup_kind kind, const id160& target) {
    dht::lookup_id id = 0;
    run_on_loop([&] {
        member& m = *members_.at(i);
        const time_point now = runtime_now();
        // Events the command emits at once (an empty table finishes the lookup there) are
        // delivered by the pump, after the lookup is registered.
        id = m.h.call<dht::dht_node>(now, m.dht, [&](dht::dht_node& n) {
            switch (kind) {
                case dht::lookup_kind::get_peers:
                    return n.get_peers(now, target);
                case dht::lookup_kind::announce:
                    return n.announce(now, target, 0);
                default:
                    return n.find_node(now, target);
            }
        });
        if (id != 0) {
            m.started[id] = now;
            std::lock_guard lock(mutex_);
            m.lookups[id];  // events of this lookup are kept from now on
        }
        m.runtime->pump();
    });
    return id;
}

void hyphae_fleet::on_event(std::size_t i, const dht::dht_event& e) {
    member& m = *members_.at(i);
    const time_point now = runtime_now();
    std::lock_guard lock(mutex_);
    if (const auto* found = std::get_if<dht::peers_found>(&e)) {
        auto it = m.lookups.find(found->id);
        if (it == m.lookups.end()) {
            return;
        }
        if (!it->second.first_peer && !found->peers.empty()) {
            it->second.first_peer = now - m.started[found->id];
        }
        it->second.peers.insert(it->second.peers.end(), found->peers.begin(), found->peers.end());
    } else if (const auto* done = std::get_if<dht::lookup_done>(&e)) {
        auto it = m.lookups.find(done->id);
        if (it == m.lookups.end()) {
            return;
        }
        it->second.done = true;
        it->second.result = *done;
        it->second.done_after = now - m.started[done->id];
        m.started.erase(done->id);
        changed_.notify_all();
    }
}

fleet_lookup hyphae_fleet::wait(std::size_t i, dht::lookup_id id, std::chrono::milliseconds deadline) {
    member& m = *members_.at(i);
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, deadline, [&] {
        auto it = m.lookups.find(id);
        return it == m.lookups.end() || it->second.done;
    });
    fleet_lookup out;
    if (auto it = m.lookups.find(id); it != m.lookups.end()) {
        out = std::move(it->second);
        m.lookups.erase(it);
    }
    return out;
}

void hyphae_fleet::cancel(std::size_t i, dht::lookup_id id) {
    run_on_loop([&] {
        member& m = *members_.at(i);
        m.call([&](dht::dht_node& n) {
            n.cancel(id);
            return 0;
        });
        m.started.erase(id);
    });
}

std::vector<std::size_t> hyphae_fleet::table_sizes() {
    std::vector<std::size_t> out;
    run_on_loop([&] {
        for (auto& m : members_) {
            out.push_back(m->node().table().size());
        }
    });
    return out;
}

std::vector<fleet_node_memory> hyphae_fleet::memory() {
    std::vector<fleet_node_memory> out;
    run_on_loop([&] {
        for (auto& m : members_) {
            const dht::dht_node& n = m->node();
            fleet_node_memory mem;
            mem.table_bytes = n.table().memory_bytes();
            mem.peer_store_bytes = n.peers().memory_bytes();
            mem.item_store_bytes = n.items().memory_bytes();
            mem.table_size = n.table().size();
            mem.replacements = n.table().replacement_count();
            mem.buckets = n.table().bucket_count();
            mem.torrents = n.peers().torrent_count();
            mem.peers = n.peers().peer_count();
            out.push_back(mem);
        }
    });
    return out;
}

std::vector<dht::dht_stats> hyphae_fleet::stats() {
    std::vector<dht::dht_stats> out;
    run_on_loop([&] {
        for (auto& m : members_) {
            out.push_back(m->node().stats());
        }
    });
    return out;
}

void hyphae_fleet::silence(std::size_t i) {
    run_on_loop([&] {
        member& m = *members_.at(i);
        if (m.black_hole) {
            return;
        }
        m.runtime->close();
        const endpoint ep = endpoints_.at(i);
        m.black_hole = std::make_unique<asio::ip::udp::socket>(io_);
        asio::error_code ec;
        const asio::ip::udp::endpoint local(asio::ip::make_address(ep.address.to_string()), ep.port);
        m.black_hole->open(local.protocol(), ec);
        if (!ec) {
            m.black_hole->bind(local, ec);
        }
        if (ec) {
            throw std::runtime_error("silencing hyphae node " + std::to_string(i) + ": " + ec.message());
        }
        // Never read: the kernel queues what fits in the buffer and drops the rest.
    });
}

bool hyphae_fleet::silenced(std::size_t i) const {
    return members_.at(i)->black_hole != nullptr;
}

}  // namespace hyphae::bench
