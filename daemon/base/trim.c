/*
 * trim.c - malloc_trim once frees pause (issue 17). A viewer's handshake
 * and session are allocated on the receive thread's malloc arena, among
 * others': after a burst of joins ends in teardowns, the arenas keep their
 * free pages (1,000 viewers gone left ~10 MB). Given back once teardowns
 * pause, never during a churn, which would only fault the pages in again.
 */
#include <glib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "trim.h"

#define TRIM_QUIET_MS 2000

static guint trim_source; /* main thread's */

static gboolean trim_cb(gpointer data)
{
	(void)data;
	trim_source = 0;
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
	return G_SOURCE_REMOVE;
}

void trim_soon(void)
{
	trim_cancel();
	trim_source = g_timeout_add(TRIM_QUIET_MS, trim_cb, NULL);
}

void trim_cancel(void)
{
	if (trim_source != 0)
		g_source_remove(trim_source);
	trim_source = 0;
}
