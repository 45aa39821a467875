/* libFuzzer: the daemon's request parser (common/proto.c) on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request req;
	char err[160];
	int status;
	json_object *o;

	if (proto_parse_request((const char *)data, size, &req, &status, err, sizeof(err)) == 0)
		proto_request_clear(&req);
	/* The reply side, as whepcam-fcgi checks the daemon's answers. */
	o = proto_parse_object((const char *)data, size, err, sizeof(err));
	if (o != NULL) {
		proto_check_fields(o, proto_reply_fields, err, sizeof(err));
		json_object_put(o);
	}
	return 0;
}
