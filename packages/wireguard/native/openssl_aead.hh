// ChaCha20-Poly1305 through the OpenSSL that Node.js itself links (its headers ship with Node's;
// its symbols are the node binary's), for the batch calls JS makes (aead_batch.cc) and for the
// native data plane (dataplane/transport.hh's Aead). One cipher context per thread, fetched once.
#pragma once

#include "dataplane/transport.hh"

namespace tunkit::wireguard {

class OpenSslAead final : public Aead {
 public:
  /** Throws std::runtime_error when this OpenSSL has no ChaCha20-Poly1305. */
  OpenSslAead();
  void seal(const AeadJob* jobs, uint32_t count) override;
  void open(const AeadJob* jobs, uint32_t count, uint8_t* ok) override;
};

/** The process's one instance (stateless but for per-thread contexts). */
OpenSslAead& openSslAead();

}  // namespace tunkit::wireguard
