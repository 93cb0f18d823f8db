// SPDX-License-Identifier: LGPL-2.1-or-later
#include "digest.hpp"

#include "base64url.hpp"
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

Result<std::string> oidc_token_hash(std::string_view alg_name, std::string_view value) {
    std::string_view md;
    if (alg_name == "EdDSA")
        md = "SHA512";
    else if (alg_name.size() == 5 && alg_name.substr(2) == "256")
        md = "SHA256";
    else if (alg_name.size() == 5 && alg_name.substr(2) == "384")
        md = "SHA384";
    else if (alg_name.size() == 5 && alg_name.substr(2) == "512")
        md = "SHA512";
    else
        return make_error(Errc::invalid, "token_hash_alg",
                          "no at_hash/c_hash digest is defined for this algorithm");
    auto h = digest(md, value);
    if (!h)
        return h;
    return base64url_encode(std::string_view(*h).substr(0, h->size() / 2));
}

} // namespace psc
