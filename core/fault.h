/* fault.h: fault injection for tests. ATTEST_FAULT=db_step:3,httpc:1 fails the Nth call. */
#ifndef AT_FAULT_H
#define AT_FAULT_H

#include <stdbool.h>

/* True when this call of site should fail. Reads ATTEST_FAULT once per process. */
bool fault_hit(const char *site);

#endif
