/*
 * encoder.h - the encoders a track runs (media/ only): vp8enc, and for
 * H.264 x264enc or a hardware v4l2h264enc (`h264-encoder`), each set up for
 * real time (no lookahead, no B-frames, constant bitrate) and, for H.264,
 * followed by h264parse so that every IDR carries its SPS and PPS.
 * Main loop.
 */
#ifndef WHEPCAMD_MEDIA_ENCODER_H
#define WHEPCAMD_MEDIA_ENCODER_H

#include <gst/gst.h>

#include "base/config.h"

/*
 * The profile-level-id our H.264 encoders are set to make: Constrained
 * Baseline (every WebRTC player decodes it), level 3.1 (720p30).
 */
#define ENCODER_H264_PROFILE 0x42e01fu

/*
 * Codec `c`'s encoder and what follows it, added to `pipeline` and linked
 * in a row whose first element is returned and whose last is *last; the
 * names end in `suffix`. NULL with *err set (caller frees) when missing.
 */
GstElement *encoder_make(GstElement *pipeline, const struct stream_config *cfg, enum codec c,
                         const char *suffix, GstElement **last, char **err);

#endif
