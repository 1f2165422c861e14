#include "hyphae/sim/adversary_service.hpp"

namespace hyphae::sim {

adversary_service::adversary_service(adversary_kind kind, const dht::node_contact& self, std::uint64_t seed,
                                     const adversary_directory& directory,
                                     std::optional<time_point> first_wake, const adversary_config& config)
    : node_(kind, self, seed, config), directory_(&directory), wake_(first_wake) {}

void adversary_service::on_datagram(time_point now, const endpoint& from, byte_view bytes) {
    node_.on_datagram(now, from, bytes, *directory_, scratch_);
    queue(scratch_);
}

void adversary_service::on_timer(time_point now) {
    wake_ = node_.on_timer(now, *directory_, scratch_);
    queue(scratch_);
}

void adversary_service::queue(std::vector<dht::dht_transmit>& out) {
    for (auto& d : out) {
        out_.push(std::move(d));
    }
    out.clear();
}

std::optional<transmit> adversary_service::poll_transmit() {
    auto d = out_.pop();
    if (!d) {
        return std::nullopt;
    }
    return transmit{std::move(*d)};
}

}  // namespace hyphae::sim
