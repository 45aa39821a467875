/*
 * fanout_priv.h - what the fan-out's files share (fanout.c sends frames,
 * fanout_resend.c serves NACKs from its history, fanout_report.c writes
 * RTCP sender reports): the fan-out and its members. lite/ only, and only
 * fanout*.c; everyone else goes through fanout.h.
 */
#ifndef WHEPCAMD_LITE_FANOUT_PRIV_H
#define WHEPCAMD_LITE_FANOUT_PRIV_H

#include <gst/gst.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "fanout.h"
#include "gop.h"
#include "lite.h"
#include "wire/resend.h"

#define FANOUT_MAX_PACKETS 512 /* packets of one frame we handle (a 720p keyframe: ~100) */
#define FANOUT_HISTORY     512 /* packets kept for NACKs: ~2 s at 2 Mbps, by sequence number */

/*
 * One batch of protected packets for sendmmsg, to one or several viewers: a
 * thread's scratch, flushed before the fanout lock is let go (fanout.c).
 */
#define FANOUT_GSO_MAX_BYTES 60000 /* one UDP GSO send: under the 64 KiB of a UDP datagram */
struct batch {
	/*
	 * Up to DIRECT_BATCH sealed packets back to back: a run of one length
	 * (the last may be shorter) goes in one datagram with UDP_SEGMENT, which
	 * the kernel cuts into the packets (UDP GSO: one trip through the stack
	 * for a frame's packets to a viewer, not one each).
	 */
	uint8_t out[DIRECT_BATCH * (DIRECT_MAX_PACKET + SRTP_SEAL_MAX_TRAILER)];
	struct mmsghdr msgs[DIRECT_BATCH];
	struct iovec iov[DIRECT_BATCH];
	guint packets[DIRECT_BATCH]; /* in each message */
	guint64 bytes[DIRECT_BATCH]; /* RTP bytes in each, before SRTP */
	uint16_t segment[DIRECT_BATCH];
	struct fanout_member *owner[DIRECT_BATCH]; /* whose packets each message carries */
	guint nmsg;                                /* messages held */
	size_t used;                               /* bytes of out[] they take */
	int fd;                                    /* the socket they go out of */
	union {                                    /* UDP_SEGMENT's control message, per message */
		struct cmsghdr hdr;
		uint8_t buf[CMSG_SPACE(sizeof(uint16_t))];
	} control[DIRECT_BATCH];
};

/* A packet as the payloader made it, for viewers that lost it (RFC 4585 NACK). */
struct sent_packet {
	uint16_t seq;
	uint16_t len; /* 0: empty */
	uint8_t data[DIRECT_MAX_PACKET];
};

/*
 * One viewer: main thread creates and frees it. tx, fd and addr are
 * written on the receive thread (fanout_set_sender) under the fanout lock;
 * the send thread reads them under that lock, the receive thread (resends)
 * without it. Every srtp_seal with tx holds `seal`: the send thread's and
 * the receive thread's would otherwise race on libsrtp's stream state.
 */
struct fanout_member {
	int pt;                     /* the viewer's payload type: written into every packet */
	struct branch *branch;      /* gate and counters, shared with the session layer */
	char sid[SHORT_ID_LEN + 1]; /* for log lines */
	struct srtp_seal *tx;       /* NULL until the DTLS handshake ends */
	GMutex seal;                /* taken with tx in use; after the fanout lock, if both */
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct resend_budget resend; /* the receive thread's alone */
	bool asked_keyframe;         /* the send thread's: it waits, and nothing kept would do */
	/*
	 * Its frames open the viewer's gate (video; an audio-only viewer's
	 * sound when its DTLS is up); false: they pass once the gate is open
	 * (sound beside a picture starts with the picture).
	 */
	bool leads;
	guint64 packets, octets; /* sent to it (atomics: the send thread's): its sender reports */
	guint64 frame; /* the send thread's: the last frame it was given (fanout.c's walk) */
};

struct fanout {
	GMutex lock; /* members, and each member's sender */
	/*
	 * Threads other than the send thread waiting for the lock (fanout_lock):
	 * a frame to 1,000 viewers holds it for tens of ms, so the send thread
	 * hands it over between every FANOUT_HOLD_MEMBERS viewers while anyone
	 * waits, and `turn` tells it when they all had it.
	 */
	gint waiting;
	GCond turn;
	/*
	 * The NACK history and the report clock below: held for a copy, never
	 * across a send, so the receive thread's NACKs and sender reports never
	 * wait for a frame's turn. Taken after `lock` when both are.
	 */
	GMutex side;
	GPtrArray *members; /* struct fanout_member *, owned: fanout_add to fanout_remove */
	guint32 ssrc;
	enum codec codec;
	unsigned kbps;   /* the stream's configured bitrate: each member's resend budget */
	guint first;     /* rotates: when a frame cannot reach everyone, not always the same lose */
	guint removals;  /* bumped by fanout_remove: a wait without the lock checks it after */
	guint changes;   /* bumped by fanout_add and _remove: the members' order changed */
	guint64 frame;   /* frames sent so far: each member is given a frame once */
	GstElement *tee; /* a reference: the tee_pad is released from it */
	GstPad *tee_pad;
	GstElement *bin;
	struct batch sending; /* the send thread's */
	struct batch joining; /* the receive thread's: a GOP sent as DTLS comes up */
	struct gop_packets sending_gop, joining_gop;
	GstMapInfo maps[FANOUT_MAX_PACKETS];
	const uint8_t *data[FANOUT_MAX_PACKETS]; /* the frame's packets, as maps[] */
	gsize len[FANOUT_MAX_PACKETS];
	struct sent_packet *history; /* FANOUT_HISTORY slots, under `side` */
	struct track *track;         /* whose keyframes a waiting viewer asks for */
	struct gop *gop;             /* the frames since the last keyframe, for joins: gop.h */
	/*
	 * The newest frame's RTP timestamp and when it was captured, on the
	 * monotonic clock (ns): what a sender report maps the wall clock to.
	 * Every track of a stream reads the same pipeline clock, so a player
	 * lines sound and picture up by them. Under `side`; 0: none yet.
	 */
	guint32 report_rtp;
	gint64 report_mono_ns;
	guint clock_rate;
};

/*
 * Any thread but the send thread: the fanout lock, taken in turn with the
 * frame being sent (the send thread lets it go between viewers while
 * anyone waits), so a join, a NACK or a report never waits for a whole
 * frame to every viewer.
 */
void fanout_lock(struct fanout *f);
void fanout_unlock(struct fanout *f);

/*
 * Send thread, lock held: the frame's members one by one, each once, in
 * turn from f->first. Every FANOUT_HOLD_MEMBERS members the lock may go to
 * another thread, which may add or remove members meanwhile: then the walk
 * starts over and skips those given the frame already (m->frame).
 */
struct fanout_walk {
	guint i, changes, held;
	gint64 deadline_us; /* the frame's: fanout_batch_flush before the lock goes */
};

struct fanout_member *fanout_walk_next(struct fanout *f, struct fanout_walk *w);
bool fanout_batch_flush(struct fanout *f, struct batch *b, gint64 deadline_us);
bool fanout_send_to(struct fanout *f, struct batch *b, struct fanout_member *m,
                    const uint8_t *const *data, const gsize *lens, const guint32 *ts,
                    guint npackets, gint64 deadline_us);

/* Send thread: keep the frame's packets (f->maps) for NACKs. */
void fanout_remember(struct fanout *f, guint npackets);

#endif
