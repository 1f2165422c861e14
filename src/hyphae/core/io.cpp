#include "hyphae/core/io.hpp"

namespace hyphae {

out_buffer make_out_buffer(byte_buffer bytes) {
    auto owner = std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
    const byte_view view(owner->data(), owner->size());
    return out_buffer{std::move(owner), view};
}

out_buffer make_out_buffer(std::string_view text) {
    const byte_view bytes = as_bytes(text);
    return make_out_buffer(byte_buffer(bytes.begin(), bytes.end()));
}

conn_id conn_of(const transmit& t) {
    return std::visit(
        [](const auto& x) -> conn_id {
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, io::datagram>) {
                return 0;
            } else {
                return x.conn;
            }
        },
        t);
}

}  // namespace hyphae
