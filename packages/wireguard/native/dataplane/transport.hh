// WireGuard transport messages (type 4) for the native data plane, the same bytes as the JS
// Engine's (src/protocol/seal.ts, engine.ts): a 16-byte header (type 4, 3 zero bytes, the
// receiver's index, the 64-bit counter, little-endian), the plaintext padded with zeros to a
// multiple of 16 but never past the MTU, then the 16-byte Poly1305 tag. The AEAD itself is behind
// `Aead` (OpenSSL in the addon, a stand-in in the unit tests). Plain C++.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tunkit::wireguard {

inline constexpr uint32_t kTransportHeader = 16;
inline constexpr uint32_t kTagLength = 16;
inline constexpr uint32_t kTransportMin = kTransportHeader + kTagLength;
/** Room a packet needs around it to be sealed in place: the header before; the tag and up to 15 bytes of padding after. */
inline constexpr uint32_t kSealHeadroom = kTransportHeader;
inline constexpr uint32_t kSealTailroom = kTagLength + 15;

/** One region to seal or open in place: `length` bytes at `body`, the tag right after them. */
struct AeadJob {
  uint8_t* body;
  uint32_t length;
  uint64_t counter;
  const uint8_t* key;  // 32 bytes
};

/** ChaCha20-Poly1305 with WireGuard's nonce (4 zero bytes, then the counter little-endian). */
class Aead {
 public:
  virtual ~Aead() = default;
  /** Encrypts each job in place and writes its tag after it. Any thread. */
  virtual void seal(const AeadJob* jobs, uint32_t count) = 0;
  /** Decrypts each job in place; ok[i] = 1 where job i authenticated. Any thread. */
  virtual void open(const AeadJob* jobs, uint32_t count, uint8_t* ok) = 0;
};

/** Plaintext length after padding (as wireguard-go and the JS paddedLength). */
inline uint32_t paddedLength(uint32_t length, uint32_t mtu) {
  const uint32_t last = (length > mtu && mtu > 0) ? length % mtu : length;
  uint32_t padded = (last + 15) & ~uint32_t{15};
  if (mtu > 0 && padded > mtu) padded = mtu;
  return length + (padded - last);
}

inline uint32_t readU32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

inline void writeU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

/** The transport header at `at`: type 4, the receiver's index, the counter. */
inline void writeTransportHeader(uint8_t* at, uint32_t receiverIndex, uint64_t counter) {
  at[0] = 4;
  at[1] = at[2] = at[3] = 0;
  writeU32(at + 4, receiverIndex);
  writeU32(at + 8, static_cast<uint32_t>(counter));
  writeU32(at + 12, static_cast<uint32_t>(counter >> 32));
}

/**
 * The IP packet's length from its header (IPv4 total length; IPv6 40 + payload length), or -1
 * when the header is malformed or claims more than `length` bytes (tun-core's ipTotalLengthAt).
 */
inline int64_t ipTotalLength(const uint8_t* packet, uint32_t length) {
  if (length == 0) return -1;
  const uint8_t version = packet[0] >> 4;
  uint32_t header;
  uint32_t total;
  if (version == 4) {
    if (length < 20) return -1;
    header = (packet[0] & 0x0f) * 4u;
    if (header < 20 || header > length) return -1;
    total = (uint32_t{packet[2]} << 8) | packet[3];
  } else if (version == 6) {
    if (length < 40) return -1;
    header = 40;
    total = 40 + ((uint32_t{packet[4]} << 8) | packet[5]);
  } else {
    return -1;
  }
  return total < header || total > length ? -1 : static_cast<int64_t>(total);
}

}  // namespace tunkit::wireguard
