/* app.c: the one process-state object. */
#include "fcgi/app.h"

struct app g_app;
