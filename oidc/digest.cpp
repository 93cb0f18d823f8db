// SPDX-License-Identifier: LGPL-2.1-or-later
#include "digest.hpp"

#include "ssl_ptr.hpp"

#include <openssl/evp.h>

namespace psc {

Result<std::string> digest(std::string_view algorithm, std::string_view data) {
    using EvpMdPtr = Owned<EVP_MD, EVP_MD_free>;
    const std::string name(algorithm);
    EvpMdPtr md(EVP_MD_fetch(nullptr, name.c_str(), nullptr));
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!md || EVP_Digest(data.data(), data.size(), out, &len, md.get(), nullptr) != 1)
        return make_error(Errc::internal, "crypto", name + " failed");
    return std::string(reinterpret_cast<char*>(out), len);
}

} // namespace psc
