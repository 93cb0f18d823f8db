// SPDX-License-Identifier: LGPL-2.1-or-later
#include "random.hpp"

#include "base64url.hpp"
#include "secret.hpp"

#include <limits>
#include <openssl/rand.h>
#include <vector>

namespace psc {

Result<std::string> random_token(std::size_t bytes) {
    std::vector<unsigned char> buf(bytes);
    if (bytes == 0 || bytes > 1024 || RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1)
        return make_error(Errc::internal, "rng", "the random number generator failed");
    std::string out = base64url_encode(buf.data(), buf.size());
    secure_wipe(buf.data(), buf.size());
    return out;
}

Result<unsigned> random_below(unsigned bound) {
    if (bound == 0)
        return make_error(Errc::internal, "rng", "empty range");
    // Rejection sampling: discard draws from the incomplete top bucket.
    const unsigned limit =
        std::numeric_limits<unsigned>::max() - (std::numeric_limits<unsigned>::max() % bound);
    for (int tries = 0; tries < 64; ++tries) {
        unsigned v = 0;
        if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1)
            return make_error(Errc::internal, "rng", "the random number generator failed");
        if (v < limit)
            return v % bound;
    }
    return make_error(Errc::internal, "rng", "the random number generator failed");
}

} // namespace psc
