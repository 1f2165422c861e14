#pragma once
// An adversary_node (adversary.hpp) as a service of a host, so that the simulated network drives
// it like any honest node: it claims every datagram that reaches its host, answers through the
// host's port, and wakes when its attack asks to (fake_updates' pushes).
//
// The directory is shared by all adversaries and must outlive them. The first wake-up is the
// caller's (a simulator spreads them so that pushes do not all start at once); what follows is
// the adversary's own.

#include <memory>
#include <optional>
#include <vector>

#include "hyphae/core/fifo.hpp"
#include "hyphae/core/service.hpp"
#include "hyphae/sim/adversary.hpp"

namespace hyphae::sim {

class adversary_service final : public service {
public:
    adversary_service(adversary_kind kind, const dht::node_contact& self, std::uint64_t seed,
                      const adversary_directory& directory, std::optional<time_point> first_wake,
                      const adversary_config& config = {});

    adversary_node& node() { return node_; }
    const adversary_node& node() const { return node_; }

    std::string_view name() const override { return "adversary"; }
    bool claims_datagram(byte_view bytes) const override {
        (void)bytes;
        return true;
    }
    void on_datagram(time_point now, const endpoint& from, byte_view bytes) override;
    void on_timer(time_point now) override;
    std::optional<transmit> poll_transmit() override;
    std::optional<time_point> next_timer() const override { return wake_; }
    bool has_events() const override { return false; }

private:
    void queue(std::vector<dht::dht_transmit>& out);

    adversary_node node_;
    const adversary_directory* directory_;
    std::optional<time_point> wake_;
    fifo<dht::dht_transmit> out_;
    std::vector<dht::dht_transmit> scratch_;
};

}  // namespace hyphae::sim
