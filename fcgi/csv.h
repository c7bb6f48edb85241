/* csv.h: CSV answers (RFC 4180) for reports — a header row, CRLF line ends, a field in
 * double quotes when it holds a comma, a quote, CR or LF (quotes doubled). A text cell
 * starting with = + - @ (or a tab or CR) gets a leading single quote so a spreadsheet never
 * runs it as a formula (CSV injection). Sent as an attachment with nosniff. */
#ifndef AT_CSV_H
#define AT_CSV_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "fcgi/req.h"

#define CSV_MAX (16u << 20)	/* bytes of one CSV answer (r->out holds 32 MiB) */

struct csv {
	struct buf b;
	bool first;	/* no cell yet on this row */
	bool toobig;	/* an append passed CSV_MAX */
};

void csv_init(struct csv *c);
void csv_cell(struct csv *c, const char *s);		/* text (NULL: empty), guarded */
void csv_num(struct csv *c, struct arena *a, int64_t v);	/* a number we produced */
void csv_end(struct csv *c);				/* end of row */
/* Answer the CSV as an attachment named name (unsafe characters become '_'), free its
 * buffer. Over CSV_MAX: a 500 error instead. */
void csv_send(struct req *r, struct csv *c, const char *name);

#endif
