/* lti_toolconf.h: what Attest tells platforms about itself (dynamic registration body,
 * Canvas JSON configuration). */
#ifndef AT_LTI_TOOLCONF_H
#define AT_LTI_TOOLCONF_H

#include <json-c/json.h>

#include "core/arena.h"

/* Scopes Attest asks for: AGS line items, results, scores; NRPS. Space separated. */
extern const char LTI_TOOL_SCOPES[];

/* The client registration body of LTI Dynamic Registration 1.0 for base_url. Caller puts. */
struct json_object *lti_toolconf_registration(const char *base_url, const char *product);
/* The Canvas developer key JSON configuration for base_url. Caller puts. */
struct json_object *lti_toolconf_canvas(const char *base_url, const char *public_jwks_url);
/* Host part of base_url (for `domain`), from a. */
char *lti_toolconf_domain(struct arena *a, const char *base_url);

#endif
