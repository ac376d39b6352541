// The kernel side of bench/tun-linux: a UDP flooder and a sink, in C with sendmmsg/recvmmsg so
// the load generator is not the bottleneck of what it measures.
//   flood SRC_IP DST_IP DST_PORT FLOWS SECONDS PAYLOAD [GSO]   send as fast as possible, print packets sent;
//     with GSO > 1 each message carries GSO datagrams of PAYLOAD bytes as one UDP GSO send (UDP_SEGMENT):
//     the same datagrams on the wire, far less kernel work per datagram on the sending side
//   sink IP PORT SECONDS                                  count datagrams for SECONDS, print "packets bytes"
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define BATCH 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int flood(const char* src, const char* dst, int port, int flows, double seconds, int payload, int gso) {
  int fds[64];
  if (gso < 1) gso = 1;
  if (gso > 64) gso = 64;
  if (flows > 64) flows = 64;
  for (int i = 0; i < flows; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons(9000 + i)};
    inet_pton(AF_INET, src, &local.sin_addr);
    if (bind(fds[i], (struct sockaddr*)&local, sizeof local) < 0) { perror("bind"); return 1; }
    int size = 4 << 20;
    setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (gso > 1 && setsockopt(fds[i], SOL_UDP, UDP_SEGMENT, &payload, sizeof payload) < 0) { perror("UDP_SEGMENT"); return 1; }
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, dst, &to.sin_addr);
  // Every message sends the same bytes: one buffer of GSO datagrams serves them all.
  static char data[64 * 2048];
  memset(data, 0x5a, sizeof data);
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = data;
    iov[i].iov_len = (size_t)payload * gso;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &to;
    msgs[i].msg_hdr.msg_namelen = sizeof to;
  }
  long long sent = 0;
  const double end = now() + seconds;
  for (int round = 0; now() < end; round++) {
    int n = sendmmsg(fds[round % flows], msgs, BATCH, MSG_DONTWAIT);
    if (n > 0) sent += (long long)n * gso;
    else usleep(50);  // socket buffer full: the device is behind; let it catch up
  }
  printf("%lld\n", sent);
  return 0;
}

static int sink(const char* ip, int port, double seconds) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, ip, &local.sin_addr);
  if (bind(fd, (struct sockaddr*)&local, sizeof local) < 0) { perror("bind"); return 1; }
  int size = 16 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  struct timeval tv = {0, 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  static char data[BATCH][2048];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = data[i];
    iov[i].iov_len = sizeof data[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  printf("ready\n");
  fflush(stdout);
  long long packets = 0, bytes = 0;
  const double end = now() + seconds;
  while (now() < end) {
    int n = recvmmsg(fd, msgs, BATCH, 0, NULL);
    for (int i = 0; i < n; i++) bytes += msgs[i].msg_len;
    if (n > 0) packets += n;
  }
  printf("%lld %lld\n", packets, bytes);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 8 && strcmp(argv[1], "flood") == 0)
    return flood(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), atof(argv[6]), atoi(argv[7]), argc >= 9 ? atoi(argv[8]) : 1);
  if (argc >= 5 && strcmp(argv[1], "sink") == 0) return sink(argv[2], atoi(argv[3]), atof(argv[4]));
  fprintf(stderr, "usage: flood SRC DST PORT FLOWS SECONDS PAYLOAD [GSO] | sink IP PORT SECONDS\n");
  return 2;
}
