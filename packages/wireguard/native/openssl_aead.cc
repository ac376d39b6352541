#include "openssl_aead.hh"

#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>

namespace tunkit::wireguard {

namespace {

// The cipher, fetched once by name. Not EVP_chacha20_poly1305(): node.exe does not export that
// function (Node's Windows export list leaves it out, while it does export EVP_CIPHER_fetch), so a
// Windows addon calling it cannot load; found by the Wine run of the win32 prebuild
// (scripts/test/prebuilds-wine.test.ts). A fetched cipher also spares OpenSSL 3 the implicit
// fetch on every init.
const EVP_CIPHER* chacha20Poly1305() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  if (cipher == nullptr) throw std::runtime_error("this OpenSSL has no ChaCha20-Poly1305");
  return cipher;
}

/**
 * This thread's context for one direction, given the cipher once: each packet then only sets the
 * key and nonce (EVP_*Init_ex with a null cipher). Re-giving the cipher per packet made OpenSSL 3
 * look it up again each time (name compares, parameter lookups): 4 % of a sealing thread's time.
 */
EVP_CIPHER_CTX* context(bool encrypt) {
  struct Context {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    bool ready = false;
  };
  thread_local Context sealing;
  thread_local Context opening;
  Context& c = encrypt ? sealing : opening;
  if (c.ctx == nullptr) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  if (!c.ready) {
    const int ok = encrypt ? EVP_EncryptInit_ex(c.ctx, chacha20Poly1305(), nullptr, nullptr, nullptr)
                           : EVP_DecryptInit_ex(c.ctx, chacha20Poly1305(), nullptr, nullptr, nullptr);
    if (ok != 1) throw std::runtime_error("ChaCha20-Poly1305 does not initialise in OpenSSL");
    c.ready = true;
  }
  return c.ctx;
}

constexpr int kTag = static_cast<int>(kTagLength);

void nonceOf(uint64_t counter, uint8_t nonce[12]) {
  std::memset(nonce, 0, 4);
  for (int b = 0; b < 8; ++b) nonce[4 + b] = static_cast<uint8_t>(counter >> (8 * b));
}

}  // namespace

OpenSslAead::OpenSslAead() { chacha20Poly1305(); }

void OpenSslAead::seal(const AeadJob* jobs, uint32_t count) {
  EVP_CIPHER_CTX* ctx = context(true);
  uint8_t nonce[12];
  for (uint32_t i = 0; i < count; ++i) {
    const AeadJob& job = jobs[i];
    nonceOf(job.counter, nonce);
    int written = 0;
    int last = 0;
    const int length = static_cast<int>(job.length);
    if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, job.key, nonce) != 1 ||
        EVP_EncryptUpdate(ctx, job.body, &written, job.body, length) != 1 ||
        EVP_EncryptFinal_ex(ctx, job.body + written, &last) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTag, job.body + length) != 1) {
      throw std::runtime_error("ChaCha20-Poly1305 sealing failed in OpenSSL");
    }
  }
}

void OpenSslAead::open(const AeadJob* jobs, uint32_t count, uint8_t* ok) {
  EVP_CIPHER_CTX* ctx = context(false);
  uint8_t nonce[12];
  for (uint32_t i = 0; i < count; ++i) {
    const AeadJob& job = jobs[i];
    nonceOf(job.counter, nonce);
    int written = 0;
    int last = 0;
    const int length = static_cast<int>(job.length);
    ok[i] = EVP_DecryptInit_ex(ctx, nullptr, nullptr, job.key, nonce) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTag, job.body + length) == 1 &&
            EVP_DecryptUpdate(ctx, job.body, &written, job.body, length) == 1 &&
            EVP_DecryptFinal_ex(ctx, job.body + written, &last) == 1;
  }
}

OpenSslAead& openSslAead() {
  static OpenSslAead aead;
  return aead;
}

}  // namespace tunkit::wireguard
