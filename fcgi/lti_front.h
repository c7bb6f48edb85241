/* lti_front.h: helpers shared by the LTI pages. */
#ifndef AT_LTI_FRONT_H
#define AT_LTI_FRONT_H

#include <stdbool.h>

#include "fcgi/req.h"

/* Our redirect URI (BASE/lti/launch), from r's arena. */
const char *lti_front_redirect_uri(struct req *r);
/* True when url is an address of this Attest (base_url + "/..."): no open redirect. */
bool lti_front_target_ok(const char *url);
/* A platform storage target is a frame name: a short, safe alphabet only. */
bool lti_front_storage_target_ok(const char *t);
/* Cookie name that carries the login secret for state. */
char *lti_front_state_cookie(struct req *r, const char *state);

#endif
