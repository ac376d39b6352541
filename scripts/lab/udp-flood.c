// The lab's attacker (bench/attack and the daemon's attack tests): sends datagrams from a pool at
// a fixed rate for a bounded time, from any source address and port of its namespace, with raw
// IPv4 sockets and sendmmsg, so that 200,000 datagrams a second cost the generator little and
// source port 0 can be sent at all. It never sends anywhere but the one destination it is given,
// and is only ever run inside the lab's namespaces.
//
//   udp-flood send --to IP --port N --rate R --seconds S --pool FILE
//                  [--from IP[,IP...] | --from-file FILE] [--sport N | --sports A-B]
//     The pool file holds datagrams as [u16 little-endian length][bytes], repeated; they are sent
//     in turn, each from the next source address and port (round-robin). Prints one JSON line:
//     {"sent":…,"errors":…,"seconds":…,"rate":…} (rate: achieved datagrams per second).
//   udp-flood capture --dev IFACE --port N --seconds S
//     Waits for an outgoing IPv4 UDP datagram to port N on IFACE whose payload is a WireGuard
//     transport message and prints {"receiver":"<8 hex digits>"} (its receiver index, as sent), or
//     {"receiver":null} after S seconds.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_DATAGRAM 2048
#define MAX_SOURCES 4096

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char* what) {
  fprintf(stderr, "udp-flood: %s: %s\n", what, strerror(errno));
  exit(1);
}

static const char* option(int argc, char** argv, const char* name) {
  for (int i = 2; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return NULL;
}

struct pool {
  uint8_t** data;
  uint16_t* length;
  size_t count;
};

static struct pool read_pool(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) die(path);
  struct pool p = {0};
  size_t capacity = 0;
  uint8_t header[2];
  while (fread(header, 1, 2, f) == 2) {
    const uint16_t length = (uint16_t)(header[0] | (header[1] << 8));
    if (length > MAX_DATAGRAM) {
      fprintf(stderr, "udp-flood: pool datagram of %u bytes (at most %d)\n", length, MAX_DATAGRAM);
      exit(1);
    }
    if (p.count == capacity) {
      capacity = capacity ? capacity * 2 : 1024;
      p.data = realloc(p.data, capacity * sizeof *p.data);
      p.length = realloc(p.length, capacity * sizeof *p.length);
    }
    p.data[p.count] = malloc(length ? length : 1);
    if (fread(p.data[p.count], 1, length, f) != length) break;
    p.length[p.count++] = length;
  }
  fclose(f);
  if (p.count == 0) {
    fprintf(stderr, "udp-flood: no datagram in %s\n", path);
    exit(1);
  }
  return p;
}

/** Source addresses: --from a,b,c or --from-file (one per line). */
static size_t read_sources(int argc, char** argv, struct in_addr* out) {
  size_t n = 0;
  const char* list = option(argc, argv, "--from");
  const char* file = option(argc, argv, "--from-file");
  char line[64];
  if (file) {
    FILE* f = fopen(file, "r");
    if (!f) die(file);
    while (n < MAX_SOURCES && fgets(line, sizeof line, f)) {
      line[strcspn(line, "\r\n")] = 0;
      if (line[0] && inet_pton(AF_INET, line, &out[n]) == 1) n++;
    }
    fclose(f);
  } else if (list) {
    char* copy = strdup(list);
    for (char* part = strtok(copy, ","); part && n < MAX_SOURCES; part = strtok(NULL, ","))
      if (inet_pton(AF_INET, part, &out[n]) == 1) n++;
    free(copy);
  }
  if (n == 0) {
    fprintf(stderr, "udp-flood: give --from IP[,IP...] or --from-file FILE\n");
    exit(1);
  }
  return n;
}

static int send_flood(int argc, char** argv) {
  const char* to = option(argc, argv, "--to");
  const char* pool_path = option(argc, argv, "--pool");
  const int port = atoi(option(argc, argv, "--port") ? option(argc, argv, "--port") : "0");
  const double rate = atof(option(argc, argv, "--rate") ? option(argc, argv, "--rate") : "0");
  const double seconds = atof(option(argc, argv, "--seconds") ? option(argc, argv, "--seconds") : "0");
  if (!to || !pool_path || port <= 0 || rate <= 0 || seconds <= 0 || seconds > 600) {
    fprintf(stderr, "udp-flood send: --to IP --port N --rate R --seconds S (at most 600) --pool FILE are required\n");
    return 2;
  }
  int sport_low = 40000, sport_high = 40063;  // 64 source ports by default
  if (option(argc, argv, "--sport")) sport_low = sport_high = atoi(option(argc, argv, "--sport"));
  if (option(argc, argv, "--sports")) sscanf(option(argc, argv, "--sports"), "%d-%d", &sport_low, &sport_high);
  if (sport_low < 0 || sport_high > 65535 || sport_high < sport_low) {
    fprintf(stderr, "udp-flood: bad source ports %d-%d\n", sport_low, sport_high);
    return 2;
  }
  static struct in_addr sources[MAX_SOURCES];
  const size_t source_count = read_sources(argc, argv, sources);
  struct pool pool = read_pool(pool_path);

  struct sockaddr_in dst = {.sin_family = AF_INET};
  if (inet_pton(AF_INET, to, &dst.sin_addr) != 1) {
    fprintf(stderr, "udp-flood: --to %s is not an IPv4 address\n", to);
    return 2;
  }
  // A raw socket with our own IP header: any source address of this namespace, any source port
  // (0 included). The kernel fills in the IP checksum and total length; the UDP checksum stays 0
  // (none, which IPv4 allows).
  const int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) die("raw socket (needs CAP_NET_RAW)");
  const int sndbuf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);

  static uint8_t packets[BATCH][sizeof(struct iphdr) + sizeof(struct udphdr) + MAX_DATAGRAM];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &dst;
    msgs[i].msg_hdr.msg_namelen = sizeof dst;
  }

  uint64_t sent = 0, errors = 0, next = 0;
  const int sport_count = sport_high - sport_low + 1;
  const double start = now();
  double elapsed = 0;
  while ((elapsed = now() - start) < seconds) {
    const uint64_t due = (uint64_t)(rate * elapsed) + 1;
    if (due <= sent) {
      const struct timespec pause = {0, 100000};  // 0.1 ms: ahead of the rate
      nanosleep(&pause, NULL);
      continue;
    }
    unsigned count = (unsigned)(due - sent < BATCH ? due - sent : BATCH);
    for (unsigned i = 0; i < count; i++, next++) {
      const size_t k = next % pool.count;
      uint8_t* p = packets[i];
      struct iphdr* ip = (struct iphdr*)p;
      struct udphdr* udp = (struct udphdr*)(p + sizeof *ip);
      const uint16_t length = pool.length[k];
      memset(ip, 0, sizeof *ip);
      ip->version = 4;
      ip->ihl = 5;
      ip->ttl = 64;
      ip->protocol = IPPROTO_UDP;
      ip->saddr = sources[next % source_count].s_addr;
      ip->daddr = dst.sin_addr.s_addr;
      udp->source = htons((uint16_t)(sport_low + (int)((next / source_count) % (uint64_t)sport_count)));
      udp->dest = htons((uint16_t)port);
      udp->len = htons((uint16_t)(sizeof *udp + length));
      udp->check = 0;
      memcpy(p + sizeof *ip + sizeof *udp, pool.data[k], length);
      iov[i].iov_base = p;
      iov[i].iov_len = sizeof *ip + sizeof *udp + length;
    }
    const int n = sendmmsg(fd, msgs, count, 0);
    if (n < 0) {
      if (errno != ENOBUFS && errno != EAGAIN && errno != EPERM && errno != EINTR) die("sendmmsg");
      errors += count;
      sent += count;  // counted as due, not resent: the rate stays the offered one
      continue;
    }
    sent += (uint64_t)n;
    if ((unsigned)n < count) {
      errors += count - (unsigned)n;
      sent += count - (unsigned)n;
    }
  }
  close(fd);
  printf("{\"sent\":%llu,\"errors\":%llu,\"seconds\":%.3f,\"rate\":%.0f}\n", (unsigned long long)(sent - errors),
         (unsigned long long)errors, elapsed, (double)(sent - errors) / elapsed);
  return 0;
}

static int capture(int argc, char** argv) {
  const char* dev = option(argc, argv, "--dev");
  const int port = atoi(option(argc, argv, "--port") ? option(argc, argv, "--port") : "0");
  const double seconds = atof(option(argc, argv, "--seconds") ? option(argc, argv, "--seconds") : "10");
  if (!dev || port <= 0) {
    fprintf(stderr, "udp-flood capture: --dev IFACE --port N [--seconds S]\n");
    return 2;
  }
  // ETH_P_ALL: a packet socket bound to one protocol sees only what arrives, not what leaves.
  const int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
  if (fd < 0) die("packet socket (needs CAP_NET_RAW)");
  struct sockaddr_ll where = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)if_nametoindex(dev)};
  if (where.sll_ifindex == 0 || bind(fd, (struct sockaddr*)&where, sizeof where) != 0) die(dev);
  uint8_t frame[4096];
  const double end = now() + seconds;
  while (now() < end) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    struct sockaddr_ll from;
    socklen_t fromLength = sizeof from;
    const ssize_t n = recvfrom(fd, frame, sizeof frame, 0, (struct sockaddr*)&from, &fromLength);
    if (from.sll_protocol != htons(ETH_P_IP)) continue;
    if (n < (ssize_t)(sizeof(struct iphdr) + sizeof(struct udphdr) + 16)) continue;
    const struct iphdr* ip = (const struct iphdr*)frame;
    if (ip->version != 4 || ip->protocol != IPPROTO_UDP) continue;
    const size_t ihl = ip->ihl * 4u;
    if ((size_t)n < ihl + sizeof(struct udphdr) + 16) continue;
    const struct udphdr* udp = (const struct udphdr*)(frame + ihl);
    const uint8_t* payload = frame + ihl + sizeof *udp;
    if (ntohs(udp->dest) != port || payload[0] != 4 || payload[1] || payload[2] || payload[3]) continue;
    printf("{\"receiver\":\"%02x%02x%02x%02x\"}\n", payload[4], payload[5], payload[6], payload[7]);
    return 0;
  }
  printf("{\"receiver\":null}\n");
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "send") == 0) return send_flood(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "capture") == 0) return capture(argc, argv);
  fprintf(stderr, "usage: udp-flood send --to IP --port N --rate R --seconds S --pool FILE [--from IP,...|--from-file F] [--sport N|--sports A-B]\n"
                  "       udp-flood capture --dev IFACE --port N [--seconds S]\n");
  return 2;
}
