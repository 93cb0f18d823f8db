// SPDX-License-Identifier: LGPL-2.1-or-later
// Owners for the OpenSSL 3 handles used by the OIDC core.
#pragma once

#include "owned.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

namespace psc {

using EvpPkeyPtr = Owned<EVP_PKEY, EVP_PKEY_free>;
using EvpPkeyCtxPtr = Owned<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using EvpMdCtxPtr = Owned<EVP_MD_CTX, EVP_MD_CTX_free>;
using BioPtr = Owned<BIO, BIO_free_all>;
using BignumPtr = Owned<BIGNUM, BN_free>;
using EcdsaSigPtr = Owned<ECDSA_SIG, ECDSA_SIG_free>;
using OsslParamBldPtr = Owned<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using OsslParamPtr = Owned<OSSL_PARAM, OSSL_PARAM_free>;
using X509Ptr = Owned<X509, X509_free>;

// Shares ownership of an EVP_PKEY (reference-counted by OpenSSL).
[[nodiscard]] inline EvpPkeyPtr evp_pkey_share(EVP_PKEY* k) noexcept {
    if (k && EVP_PKEY_up_ref(k) == 1)
        return EvpPkeyPtr(k);
    return EvpPkeyPtr();
}

} // namespace psc
