/* libFuzzer: offer checks and answer splicing (daemon/sdp.c) on arbitrary text. */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "wire/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = g_strndup((const char *)data, size); /* what json-c hands us: NUL-free */
	GPtrArray *cands = g_ptr_array_new();
	char detail[160], *a, *b;
	int pt = -1;

	static const struct codec_sends both = {
	    .order = {CODEC_H264, CODEC_VP8}, .n = 2, .h264_profile = 0x640028};
	struct codec_pick pick;

	sdp_check_offer(text, &pt, detail, sizeof(detail));
	sdp_check_offer_codecs(text, &both, &pick, detail, sizeof(detail));
	g_ptr_array_add(cands, (gpointer) "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host");
	a = sdp_add_ssrcs(text, 42, 43, "whepcam");
	b = sdp_splice_candidates(a, cands);
	g_free(b);
	g_free(a);
	g_ptr_array_unref(cands);
	g_free(text);
	return 0;
}
