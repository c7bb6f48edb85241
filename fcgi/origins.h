/* origins.h: the CSP frame-ancestors value: registered platforms' origins, cached briefly. */
#ifndef AT_ORIGINS_H
#define AT_ORIGINS_H

/* Borrowed; valid until the next call. Falls back to 'self' if the database fails. */
const char *origins_frame_ancestors(void);
/* Forget the cache (after a registration or a newly learned origin). */
void origins_invalidate(void);

#endif
