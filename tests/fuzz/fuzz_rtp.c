/* libFuzzer: the RTP/RTCP readers of the direct path (daemon/rtp.c) on raw datagrams. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lite/lite.h"
#include "wire/codec.h"
#include "wire/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so reading one byte past the datagram is caught. */
	uint8_t *p = malloc(size ? size : 1);

	memcpy(p, data, size);
	rtp_vp8_keyframe_start(p, size);
	rtp_h264_keyframe_start(p, size);
	codec_h264_sps_profile(p, size);
	if (rtp_is_rtcp(p, size))
		rtp_rtcp_wants_keyframe(p, size);
	rtp_rtcp_wants_keyframe(p, size);
	{
		uint16_t seqs[DIRECT_MAX_NACKS];

		if (rtp_rtcp_nacks(p, size, seqs, DIRECT_MAX_NACKS) > DIRECT_MAX_NACKS)
			abort();
	}
	free(p);
	return 0;
}
