/*
 * rx.h - whep_rx, the bench's cheap WHEP receiver: one process, one thread,
 * many viewers. Each viewer POSTs a real offer through nginx, does the ICE
 * check and a real DTLS 1.2 handshake, answers consent checks, then counts
 * SRTP packets from their plain RTP headers, decrypting only the first few
 * and one a second (OpenSSL EVP, not libsrtp: an independent implementation
 * of RFC 3711 / RFC 7714). With --audio it offers Opus beside the picture
 * and counts the sound's packets and sender reports apart. Prototypes
 * grouped by file.
 */
#ifndef WHEP_RX_H
#define WHEP_RX_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define RX_MAX_SDP       65536 /* nginx's client_max_body_size, and ours for answers */
#define RX_UFRAG_LEN     8
#define RX_PWD_LEN       24
#define RX_MAX_CRED      256 /* the server's ufrag / pwd */
#define RX_FP_LEN        32  /* sha-256 */
#define RX_MAX_LOCATION  512
#define RX_SEQ_WINDOW    1024 /* packets remembered for duplicates (a power of two) */
#define RX_SRTP_KEY      16
#define RX_SRTP_SALT_MAX 14
#define RX_SRTP_AUTH     20   /* HMAC-SHA1 key, AES128_CM_SHA1_80 */
#define RX_OPUS_PT       111  /* the payload type --audio offers Opus at */
#define RX_AUDIO_DECRYPT 4    /* audio packets decrypted, from the first */
#define RX_SLOT_FULL     2048 /* a whole datagram */
#define RX_FULL_READS_MS 2000 /* after the first packet: a late DTLS flight still fits */

enum rx_profile { RX_PROFILE_NONE, RX_PROFILE_GCM, RX_PROFILE_CM };

/* ---- rx_stun.c: the STUN an ICE-lite server's peer needs (RFC 8489, RFC 8445) ---- */

bool stun_looks_like(const uint8_t *p, size_t n);
/* A Binding request: USERNAME, PRIORITY, ICE-CONTROLLING, [USE-CANDIDATE],
 * MESSAGE-INTEGRITY keyed with `pwd`, FINGERPRINT. Returns its length: out
 * must hold 84 bytes more than the username rounded up to 4. */
size_t stun_write_request(uint8_t *out, const uint8_t txid[12], const char *username,
                          const char *pwd, uint64_t tiebreaker, bool use_candidate);
/* 1: a Binding success to `txid`, integrity checked with `pwd`; 0 otherwise. */
bool stun_is_success(const uint8_t *p, size_t n, const uint8_t txid[12], const char *pwd);
/* A Binding request for `username` with integrity under `pwd`: write its
 * success response (XOR-MAPPED-ADDRESS of `from`) to out, return its length;
 * 0 when it is not such a request (wrong user, key or fingerprint). */
size_t stun_answer(const uint8_t *p, size_t n, const char *username, const char *pwd,
                   const struct sockaddr_in *from, uint8_t *out, size_t cap);

/* ---- rx_srtp.c: keys, decryption, RTP and VP8 headers ---- */

struct srtp_rx {
	enum rx_profile profile;
	uint8_t key[RX_SRTP_KEY], salt[RX_SRTP_SALT_MAX], auth[RX_SRTP_AUTH];
	size_t salt_len;
};

/* Session keys (RFC 3711 4.3, AES-CM PRF) from a master key and salt. 0 or -1. */
int srtp_rx_init(struct srtp_rx *s, enum rx_profile profile, const uint8_t *master_key,
                 const uint8_t *master_salt);
/* Decrypts and authenticates an SRTP packet in place whose rollover counter
 * is `roc`; returns the RTP packet's length (header + payload, padding
 * removed), or -1 when the tag does not verify. */
int srtp_rx_decrypt(const struct srtp_rx *s, uint8_t *p, size_t n, uint32_t roc);
/* Frees the algorithms fetched on first use. */
void srtp_rx_cleanup(void);
/* The RTP header's length (CSRCs and extension included), or 0 when p is too short. */
size_t rtp_header_len(const uint8_t *p, size_t n);
/* RFC 7741: a VP8 payload that starts a keyframe (S=1, PID 0, P=0) and carries
 * the keyframe start code (RFC 6386 9.1); *w and *h its size. */
bool vp8_keyframe_start(const uint8_t *payload, size_t n, int *w, int *h);
/* RFC 6184: an H.264 payload (single NAL unit, STAP-A or an FU-A's start)
 * that starts a keyframe: an IDR slice or the SPS before one. */
bool h264_keyframe_start(const uint8_t *payload, size_t n);

/* ---- rx_dtls.c: the DTLS client and its certificate ---- */

/* The process's certificate and context; fp: "sha-256 AB:CD:…". 0 or -1. */
int dtls_rx_init(char *fp, size_t fp_len);
void dtls_rx_cleanup(void);
/* A client SSL offering `profile` (NONE: both, GCM first) whose every write
 * is one datagram sent on `fd` (connected). Caller frees with SSL_free. */
SSL *dtls_rx_new(int fd, enum rx_profile profile);
/* Feed one datagram (NULL to drive the handshake or a timeout). Returns 1
 * when the handshake is done, 0 while it goes on, -1 on failure. */
int dtls_rx_feed(SSL *ssl, const uint8_t *p, size_t n);
/* After the handshake: the peer's certificate digest must be `want`; the
 * server's SRTP master keys come out. 0, or -1 with *why set. */
int dtls_rx_finish(SSL *ssl, const uint8_t want[RX_FP_LEN], struct srtp_rx *rx, bool corrupt_key,
                   const char **why);

/* ---- rx_http.c: offers, answers, HTTP/1.1 ---- */

struct answer {
	char ufrag[RX_MAX_CRED], pwd[RX_MAX_CRED];
	uint8_t fp[RX_FP_LEN];
	struct sockaddr_in cand; /* the server candidate we use */
	uint32_t ssrc;           /* the video m-line's first a=ssrc, 0 if none */
	uint32_t audio_ssrc;     /* the audio m-line's, 0 if none */
};

/* The offer of one viewer: recvonly VP8 (G.h264: H.264, packetization-mode 1,
 * High up to level 3.1 and level-asymmetry) on one bundled m-line, and with
 * G.audio a recvonly Opus m-line bundled after it. Returns its length. */
size_t sdp_offer(char *out, size_t cap, const char *ufrag, const char *pwd, const char *fp,
                 const struct sockaddr_in *local);
/* Parses an answer; `prefer` is the candidate address to pick when there are
 * several (ours). 0, or -1 with *why set. */
int sdp_answer(const char *sdp, const struct in_addr *prefer, struct answer *a, const char **why);

struct http_req {
	int fd;
	char *out;
	size_t out_len, out_off;
	char *in;
	size_t in_len, in_cap;
	int status; /* when done */
	char location[RX_MAX_LOCATION];
	const char *body; /* into `in`, when done */
};

/* Starts a non-blocking request from `local` to `server`; 0 or -1. */
int http_start(struct http_req *r, const struct sockaddr_in *local,
               const struct sockaddr_in *server, const char *method, const char *path,
               const char *host, const char *body, size_t body_len);
/* The socket is ready: 1 done (status, location, body set), 0 more to do, -1 failed. */
int http_step(struct http_req *r, bool *want_write);
void http_free(struct http_req *r);

/* ---- rx_viewer.c: one viewer, from its POST to its DELETE ---- */

enum vstate { V_POST, V_ICE, V_DTLS, V_UP, V_DELETE, V_GONE };
enum src_kind { SRC_STDIN, SRC_UDP, SRC_HTTP };

struct viewer;
/* What an epoll event points at. */
struct src {
	enum src_kind kind;
	struct viewer *v;
};

struct viewer {
	struct src udp_src, http_src;
	int id;
	enum vstate state;
	bool done; /* the join is over: played (failed == false) or failed */
	bool failed;
	const char *why; /* a static string, when failed */
	int udp;
	struct sockaddr_in local;
	char ufrag[RX_UFRAG_LEN + 1], pwd[RX_PWD_LEN + 1];
	char user_out[2 * RX_MAX_CRED + 2], user_in[2 * RX_MAX_CRED + 2]; /* STUN USERNAMEs */
	struct answer ans;
	char location[RX_MAX_LOCATION];
	struct http_req *http;
	int delete_status;
	SSL *ssl;
	struct srtp_rx srtp;
	enum rx_profile want_profile;
	uint8_t txid[12];
	double t0, t201, t_ice, t_dtls, t_first, t_key; /* ms, monotonic; 0: not yet */
	double next_check, next_keepalive, next_sample, full_until, deadline;
	/* media, from the plain RTP headers */
	uint32_t ssrc;
	int64_t first_ext, max_ext;
	uint64_t pkts, dups, late, bytes, rtcp, foreign, other, bad_pt, early;
	uint64_t seen[RX_SEQ_WINDOW / 64];
	/* the few packets looked inside */
	int decrypts, decrypt_ok, decrypt_fail;
	bool first_checked, first_is_key;
	int width, height;
	uint64_t consent_answered, stun_other, keepalive_sent, keepalive_ok, dtls_after;
	/* sound (--audio), told apart by its payload type */
	uint32_t a_ssrc;
	int64_t a_first_ext, a_max_ext;
	uint64_t a_pkts, a_bytes, a_before_video, a_foreign;
	int a_decrypt_ok, a_decrypt_fail;
	/* RTCP sender reports, by the answer's SSRC they are sent from (clear in SRTCP) */
	uint64_t sr_video, sr_audio, sr_other;
};

/* Options and shared state of the process (one thread: no locks). */
struct rx_global {
	int ep;
	struct sockaddr_in server;
	char host[64];
	char path[256]; /* /whep/STREAM */
	char fp[128];   /* our certificate's a=fingerprint value */
	int batch;      /* recvmmsg vlen */
	int decrypt_first, sample_ms, keepalive_ms, rcvbuf;
	bool corrupt_key;
	bool h264;  /* offer H.264 instead of VP8 */
	bool audio; /* offer Opus too */
	bool gro;   /* UDP_GRO: a GSO sender's segments come coalesced (rx_viewer.c) */
	uint64_t wakeups, recv_calls, datagrams;
};
extern struct rx_global G;

double now_ms(void);
/* A viewer bound to `local`, its POST sent; NULL when no socket could be made. */
struct viewer *viewer_start(int id, const struct in_addr *local, enum rx_profile profile);
void viewer_on_udp(struct viewer *v);
void viewer_on_http(struct viewer *v, uint32_t events);
/* Retransmissions, consent, deadlines: call every few tens of ms. */
void viewer_tick(struct viewer *v, double now);
/* Sends its DELETE (or ends it at once when it has no Location); state V_DELETE, then V_GONE. */
void viewer_delete(struct viewer *v);
void viewer_free(struct viewer *v);

/* ---- rx_media.c: a playing viewer's packets ---- */

/* An RTP packet of `n` bytes, of which `avail` were read. */
void media_on_rtp(struct viewer *v, const uint8_t *p, size_t avail, size_t n, double now);
/* An SRTCP packet, `avail` bytes read. */
void media_on_rtcp(struct viewer *v, const uint8_t *p, size_t avail);
/* Sequence numbers missing between the first and the highest received. */
uint64_t viewer_missing(const struct viewer *v);
/* The same for the sound's packets. */
uint64_t viewer_audio_missing(const struct viewer *v);

/* ---- rx_report.c: the replies' text ---- */

/* "key":ms from t0 (or null when t never came) and a comma when `comma`. */
void report_ms(const char *key, double t, double t0, bool comma);
void report_counts(struct viewer *const *held, size_t n);
void report_stats(struct viewer *const *held, size_t n);
void report_error(const char *what);

#endif
