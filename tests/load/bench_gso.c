/*
 * bench_gso - what sending one frame's packets to one viewer costs per
 * packet: sendto per packet, one sendmmsg (fanout.c today), or one sendmsg
 * with UDP GSO (UDP_SEGMENT: equal-size segments, the last may be
 * shorter). Unconnected socket with the address in each message, as
 * fanout.c sends. Prints CPU time per packet of the sending, less the
 * receiver's recv calls (loopback delivery into the receiving socket runs
 * in the sender's softirq, so on lo that part is counted) and how many
 * datagrams the receiver got (a UDP_GRO receiver gets them merged).
 * Usage: bench_gso [-a ipv4] [-p port] [-n packets/frame] [-s size]
 *                  [-f frames] [-r reps] [-g 0|1 receiver UDP_GRO] [-R 0|1 receiver]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_N    64
#define MAX_SIZE 1472
#define MAX_REPS 32

enum mode { MODE_SENDTO, MODE_SENDMMSG, MODE_GSO, MODE_N };
static const char *const mode_name[MODE_N] = {"sendto", "sendmmsg", "gso"};

static double cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static unsigned long arg(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0') {
		fprintf(stderr, "bench_gso: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double drain_ns; /* CPU the draining took: not the sender's, taken off */

/* Datagrams waiting at the receiver, drained: a GRO receiver gets them merged (cmsg not read). */
static unsigned long drain(int rx)
{
	static char buf[65536];
	unsigned long n = 0;
	double t0 = cpu_ns();

	while (rx >= 0 && recv(rx, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
	drain_ns += cpu_ns() - t0;
	return n;
}

static uint8_t data[MAX_N * MAX_SIZE];

/* One frame of n packets of `size` (the last `last` bytes) to `to`. Datagrams sent, or -1. */
static int send_frame(int fd, enum mode m, const struct sockaddr_in *to, int n, int size, int last)
{
	struct mmsghdr msgs[MAX_N];
	struct iovec iov[MAX_N];
	char ctl[CMSG_SPACE(sizeof(uint16_t))];
	struct msghdr mh;
	struct cmsghdr *c;
	int i;

	switch (m) {
	case MODE_SENDTO:
		for (i = 0; i < n; i++)
			if (sendto(fd, data + i * size, (size_t)(i == n - 1 ? last : size), 0,
			           (const struct sockaddr *)to, sizeof(*to)) < 0)
				return -1;
		return n;
	case MODE_SENDMMSG:
		memset(msgs, 0, sizeof(msgs[0]) * (size_t)n);
		for (i = 0; i < n; i++) {
			iov[i].iov_base = data + i * size;
			iov[i].iov_len = (size_t)(i == n - 1 ? last : size);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = (void *)to;
			msgs[i].msg_hdr.msg_namelen = sizeof(*to);
		}
		return sendmmsg(fd, msgs, (unsigned)n, 0);
	default:
		iov[0].iov_base = data;
		iov[0].iov_len = (size_t)((n - 1) * size + last);
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = (void *)to;
		mh.msg_namelen = sizeof(*to);
		mh.msg_iov = iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		*(uint16_t *)(void *)CMSG_DATA(c) = (uint16_t)size;
		return sendmsg(fd, &mh, 0) < 0 ? -1 : n;
	}
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	unsigned long frames = 20000, reps = 5, port = 40999, gro = 0, receiver = 1;
	int n = 7, size = 1216, last = 900, fd, rx = -1, one = 1, i, m;
	double ns[MODE_N][MAX_REPS], t0;
	unsigned long got[MODE_N] = {0}, f, r;
	struct sockaddr_in to;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-a") == 0)
			addr = argv[i + 1];
		else if (strcmp(argv[i], "-p") == 0)
			port = arg(argv[i + 1]);
		else if (strcmp(argv[i], "-n") == 0)
			n = (int)arg(argv[i + 1]);
		else if (strcmp(argv[i], "-s") == 0)
			size = (int)arg(argv[i + 1]);
		else if (strcmp(argv[i], "-f") == 0)
			frames = arg(argv[i + 1]);
		else if (strcmp(argv[i], "-r") == 0)
			reps = arg(argv[i + 1]);
		else if (strcmp(argv[i], "-g") == 0)
			gro = arg(argv[i + 1]);
		else if (strcmp(argv[i], "-R") == 0)
			receiver = arg(argv[i + 1]);
		else
			break;
	}
	if (i != argc || n < 1 || n > MAX_N || size < 16 || size > MAX_SIZE || reps < 1 ||
	    reps > MAX_REPS || port > 65535 || frames == 0) {
		fprintf(stderr, "bench_gso: bad arguments (see the comment at the top)\n");
		return 2;
	}
	last = n == 1 ? size : size * 3 / 4;
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &to.sin_addr) != 1)
		return 2;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (receiver) {
		int rcvbuf = 64 << 20;

		rx = socket(AF_INET, SOCK_DGRAM, 0);
		setsockopt(rx, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
		if (gro)
			setsockopt(rx, SOL_UDP, UDP_GRO, &one, sizeof(one));
		if (bind(rx, (struct sockaddr *)&to, sizeof(to)) != 0) {
			perror("bench_gso: bind");
			return 1;
		}
	}
	if (send_frame(fd, MODE_GSO, &to, n, size, last) < 0) {
		fprintf(stderr, "bench_gso: UDP_SEGMENT refused: %s\n", strerror(errno));
		return 1;
	}
	drain(rx);
	for (r = 0; r < reps; r++) {
		for (m = 0; m < MODE_N; m++) {
			t0 = cpu_ns();
			drain_ns = 0;
			for (f = 0; f < frames; f++) {
				if (send_frame(fd, (enum mode)m, &to, n, size, last) != n) {
					fprintf(stderr, "bench_gso: %s: %s\n", mode_name[m],
					        strerror(errno));
					return 1;
				}
				if (f % 64 == 63)
					got[m] += drain(rx); /* keep the queue short: no drops */
			}
			got[m] += drain(rx);
			ns[m][r] = (cpu_ns() - t0 - drain_ns) / (double)(frames * (unsigned long)n);
		}
	}
	for (m = 0; m < MODE_N; m++) {
		qsort(ns[m], reps, sizeof(double), cmp_double);
		printf("%-8s %s n=%d size=%d receiver=%s  cpu ns/packet min %6.0f  median %6.0f"
		       "  datagrams received %lu of %lu\n",
		       mode_name[m], addr, n, size,
		       !receiver ? "none"
		       : gro     ? "gro"
		                 : "plain",
		       ns[m][0], ns[m][reps / 2], got[m], frames * reps * (unsigned long)n);
	}
	printf("gso saves per packet: %.0f ns against sendmmsg (%.0f %%)\n",
	       ns[MODE_SENDMMSG][0] - ns[MODE_GSO][0],
	       100.0 * (ns[MODE_SENDMMSG][0] - ns[MODE_GSO][0]) / ns[MODE_SENDMMSG][0]);
	close(fd);
	if (rx >= 0)
		close(rx);
	return 0;
}
