/*
 * trim.h - give the allocator's free pages back to the system once frees
 * pause (malloc_trim): main thread only.
 */
#ifndef WHEPCAMD_BASE_TRIM_H
#define WHEPCAMD_BASE_TRIM_H

/* Something big was freed: trim once nothing more is for TRIM_QUIET_MS. */
void trim_soon(void);
/* At shutdown: no trim pending. */
void trim_cancel(void);

#endif
