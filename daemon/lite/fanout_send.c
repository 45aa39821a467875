/*
 * fanout_send.c - a frame sealed and sent to many viewers from the send
 * thread: the members walked in turn with the lock handed to whoever waits
 * for it, each viewer's packets sealed into a batch shared with other
 * viewers' (one sendmmsg carries a frame to several), runs of equal length
 * as one UDP GSO message, a full socket buffer waited for without the lock.
 */
#define G_LOG_DOMAIN "fanout"
#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <string.h>

#include "fanout_priv.h"

#define FANOUT_HOLD_MEMBERS 16   /* viewers sent to between handing the lock to a waiter */
#define FANOUT_TURN_MAX_US  2000 /* how long the send thread waits for the waiters' turn */

void fanout_lock(struct fanout *f)
{
	g_atomic_int_inc(&f->waiting);
	g_mutex_lock(&f->lock);
}

void fanout_unlock(struct fanout *f)
{
	if (g_atomic_int_dec_and_test(&f->waiting))
		g_cond_signal(&f->turn);
	g_mutex_unlock(&f->lock);
}

/*
 * Send thread, lock held: let whoever waits for the lock have it, and take
 * it back when they are done (or after FANOUT_TURN_MAX_US, should they keep
 * coming). A mutex unlocked and locked again would mostly be retaken by
 * this thread before a waiter woke.
 */
static void fanout_yield(struct fanout *f)
{
	gint64 until = g_get_monotonic_time() + FANOUT_TURN_MAX_US;

	while (g_atomic_int_get(&f->waiting) > 0)
		if (!g_cond_wait_until(&f->turn, &f->lock, until))
			break;
}

struct fanout_member *fanout_walk_next(struct fanout *f, struct fanout_walk *w)
{
	if (++w->held > FANOUT_HOLD_MEMBERS) {
		w->held = 0;
		if (g_atomic_int_get(&f->waiting) > 0) { /* nothing sealed may wait past the lock */
			fanout_batch_flush(f, &f->sending, w->deadline_us);
			fanout_yield(f);
		}
	}
	if (w->changes != f->changes) {
		w->changes = f->changes;
		w->i = 0;
	}
	while (w->i < f->members->len) {
		struct fanout_member *m =
		    g_ptr_array_index(f->members, (f->first + w->i) % f->members->len);

		w->i++;
		if (m->frame != f->frame) {
			m->frame = f->frame;
			return m;
		}
	}
	return NULL;
}

/* UDP GSO in use: on unless the kernel refused it once (then never again). */
static gint gso_off;

/*
 * Send thread, fanout lock held: `batch` prepared datagrams on `fd`; how
 * many left. The socket is shared by every viewer, so a keyframe sent to
 * many at once can fill its buffer while the NIC's queue drains (the kernel
 * caps the buffer at net.core.wmem_max). Wait for room rather than drop,
 * until `deadline_us`; frames arriving meanwhile wait in the leaky queue
 * upstream. The wait is without the lock, so joins and leaves never wait for
 * a slow network; a viewer removed meanwhile gets nothing more.
 */
static guint send_batch(struct fanout *f, struct batch *b, int fd, guint batch, gint64 deadline_us)
{
	guint done = 0, removals = f->removals;

	while (done < batch) {
		int n = sendmmsg(fd, b->msgs + done, batch - done, MSG_DONTWAIT);
		gint64 left_ms;
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};

		if (n > 0) {
			done += (guint)n;
			continue;
		}
		if (n < 0 && (errno == EIO || errno == EINVAL) && b->packets[done] > 1 &&
		    g_atomic_int_compare_and_exchange(&gso_off, 0, 1))
			g_warning("UDP GSO refused (%s): packets go one by one from now on",
			          g_strerror(errno));
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
			done++; /* this datagram cannot go (no route, ...): the next may */
			continue;
		}
		left_ms = (deadline_us - g_get_monotonic_time()) / 1000;
		if (left_ms <= 0)
			break;
		g_mutex_unlock(&f->lock);
		poll(&pfd, 1, (int)MIN(left_ms, 5));
		g_mutex_lock(&f->lock);
		if (f->removals != removals)
			break; /* the viewer (and the address msgs point to) may be gone */
	}
	return done;
}

/* Lock held: message j of `b` gets UDP_SEGMENT when it carries more than one packet. */
static void set_segments(struct batch *b, guint j)
{
	struct msghdr *h = &b->msgs[j].msg_hdr;
	struct cmsghdr *c = &b->control[j].hdr;

	if (b->packets[j] < 2)
		return;
	h->msg_control = b->control[j].buf;
	h->msg_controllen = sizeof(b->control[j].buf);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	memcpy(CMSG_DATA(c), &b->segment[j], sizeof(uint16_t));
}

/*
 * Lock held: what `b` holds goes out, and each viewer is credited with what
 * of it went (its sender reports and the metrics). false when a viewer may
 * have been removed meanwhile (send_batch waited without the lock): then
 * what was left of the batch is dropped, and no member pointer a caller
 * holds may be used any more.
 */
bool fanout_batch_flush(struct fanout *f, struct batch *b, gint64 deadline_us)
{
	guint j, done, removals = f->removals;

	if (b->nmsg == 0)
		return true;
	for (j = 0; j < b->nmsg; j++)
		set_segments(b, j);
	done = send_batch(f, b, b->fd, b->nmsg, deadline_us);
	if (f->removals == removals)
		for (j = 0; j < done; j++) {
			struct fanout_member *m = b->owner[j];
			guint64 payload =
			    b->bytes[j] - MIN(b->bytes[j], (guint64)b->packets[j] * 12);

			__atomic_fetch_add(&m->branch->packets, b->packets[j], __ATOMIC_RELAXED);
			__atomic_fetch_add(&m->branch->bytes, b->bytes[j], __ATOMIC_RELAXED);
			__atomic_fetch_add(&m->packets, b->packets[j], __ATOMIC_RELAXED);
			/* payload: RTP's 12-byte headers off */
			__atomic_fetch_add(&m->octets, payload, __ATOMIC_RELAXED);
			/* the sound starts once its picture's first frame is on the wire */
			g_atomic_int_set(&m->branch->sound_open, 1);
		}
	b->nmsg = 0;
	b->used = 0;
	return f->removals == removals;
}

/*
 * Fanout lock held: packets data[i] (len[i] bytes) to one viewer, with RTP
 * timestamp ts[i] instead of their own when ts is not NULL, sealed into
 * `b` (the send thread's, or the receive thread's) behind what other
 * viewers' packets it holds: one sendmmsg carries a frame to several
 * viewers. Each run of one length (and a shorter last one) to the viewer
 * is one message with UDP_SEGMENT. A full batch is flushed on the way; the
 * caller flushes the rest (fanout_batch_flush) before it lets the lock go. false:
 * m may be gone (fanout_batch_flush).
 */
bool fanout_send_to(struct fanout *f, struct batch *b, struct fanout_member *m,
                    const uint8_t *const *data, const gsize *lens, const guint32 *ts,
                    guint npackets, gint64 deadline_us)
{
	bool gso = !g_atomic_int_get(&gso_off), open = false; /* open: m's last message grows */
	guint i;
	int len;

	if (b->nmsg > 0 && b->fd != m->fd && !fanout_batch_flush(f, b, deadline_us))
		return false;
	b->fd = m->fd;
	g_mutex_lock(&m->seal);
	for (i = 0; i < npackets; i++) {
		uint8_t *p;
		guint k;

		len = (int)lens[i];
		if (len > DIRECT_MAX_PACKET || len < 12)
			continue;
		if (b->nmsg == DIRECT_BATCH ||
		    b->used + (size_t)len + SRTP_SEAL_MAX_TRAILER > sizeof(b->out)) {
			g_mutex_unlock(&m->seal);
			if (!fanout_batch_flush(f, b, deadline_us))
				return false;
			g_mutex_lock(&m->seal);
			b->fd = m->fd;
			open = false;
		}
		p = b->out + b->used;
		memcpy(p, data[i], (size_t)len);
		p[1] = (uint8_t)((p[1] & 0x80) | m->pt);
		if (ts != NULL) { /* byte by byte: packets back to back are not aligned */
			p[4] = (uint8_t)(ts[i] >> 24);
			p[5] = (uint8_t)(ts[i] >> 16);
			p[6] = (uint8_t)(ts[i] >> 8);
			p[7] = (uint8_t)ts[i];
		}
		if (srtp_seal(m->tx, p, &len) != 0)
			continue;
		b->used += (size_t)len;
		k = b->nmsg - 1;
		if (open && len <= b->segment[k] &&
		    b->iov[k].iov_len + (size_t)len <= FANOUT_GSO_MAX_BYTES) {
			b->iov[k].iov_len += (size_t)len;
			b->packets[k]++;
			b->bytes[k] += lens[i];
			open = len == b->segment[k]; /* a shorter one ends the run */
			continue;
		}
		k = b->nmsg++;
		b->iov[k] = (struct iovec){.iov_base = p, .iov_len = (size_t)len};
		b->packets[k] = 1;
		b->bytes[k] = lens[i];
		b->segment[k] = (uint16_t)len;
		b->owner[k] = m;
		memset(&b->msgs[k], 0, sizeof(b->msgs[k]));
		b->msgs[k].msg_hdr.msg_iov = &b->iov[k];
		b->msgs[k].msg_hdr.msg_iovlen = 1;
		b->msgs[k].msg_hdr.msg_name = &m->addr;
		b->msgs[k].msg_hdr.msg_namelen = m->addrlen;
		open = gso;
	}
	g_mutex_unlock(&m->seal);
	return true;
}
