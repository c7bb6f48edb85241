/* pages.h: every handler, one file per page or endpoint (cgit's ui-*.c). */
#ifndef AT_PAGES_H
#define AT_PAGES_H

#include "fcgi/req.h"

void page_health(struct req *r);		/* page_health.c */
void page_jwks(struct req *r);			/* page_keys.c */
void page_canvas_json(struct req *r);		/* page_keys.c */
void page_lti_login(struct req *r);		/* page_login.c */
void page_lti_launch(struct req *r);		/* page_launch.c */
void page_lti_register(struct req *r);		/* page_register.c */
void page_app(struct req *r);			/* page_app.c */
void page_deeplink(struct req *r);		/* page_deeplink.c */
void page_index(struct req *r);			/* page_app.c */

/* The JSON API, /api/v1/... (fcgi/api_*.c; helpers in fcgi/api.h) */
void api_me(struct req *r);			/* api_me.c */
/* --- api block A handlers --- */
/* --- end of api block A handlers --- */
/* --- api block B handlers --- */
/* --- end of api block B handlers --- */

#endif
