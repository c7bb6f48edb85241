/* page_reports.c: GET /app/reports — reports with pictures for a program in a course:
 * competency proficiency by group as a heat map and pass rates per week or month as a bar
 * chart, both drawn as SVG by templates (web/templates/coord/heatmap.svg.html, passrates.svg.html) from geometry and
 * labels computed here. Every cell and bar carries its number as text and in a title;
 * a table under each picture and a CSV download (?format=csv&table=heatmap|passrates)
 * give the same numbers. Staff of the course only (404 otherwise). */
#include <string.h>

#include "core/dashboard.h"
#include "core/program.h"
#include "fcgi/api.h"
#include "fcgi/app.h"
#include "fcgi/csv.h"
#include "fcgi/http.h"
#include "fcgi/page_coord.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"
#include "fcgi/tmpl.h"

#define PERIODS 12		/* weeks or months on the pass rate chart */

/* heat map geometry (px) */
#define HM_LEFT 180
#define HM_TOP 150
#define HM_RIGHT 150		/* room for the last rotated column label */
#define HM_CW 76
#define HM_CH 40
/* bar chart geometry */
#define PR_LEFT 52
#define PR_TOP 24
#define PR_H 160
#define PR_BW 56
#define PR_BAR 34

/* Hundredths of a percent as text: 5000 -> "50%", 3333 -> "33.33%". */
static const char *pct(struct req *r, int64_t v)
{
	if (v % 100 == 0)
		return arena_printf(r->arena, "%lld%%", (long long)(v / 100));
	return arena_printf(r->arena, "%lld.%02lld%%", (long long)(v / 100), (long long)(v % 100));
}

static const char *pct_csv(struct req *r, int64_t v)
{
	if (v % 100 == 0)
		return arena_printf(r->arena, "%lld", (long long)(v / 100));
	return arena_printf(r->arena, "%lld.%02lld", (long long)(v / 100), (long long)(v % 100));
}

static const char *group_label(const char *g)
{
	return g && *g ? g : "No group";
}

/* Colour band of a share (0..4), "none" without learners: the class of the cell. */
static const char *band(int64_t share)
{
	static const char *const b[] = { "b0", "b1", "b2", "b3", "b4" };

	if (share < 0)
		return "bn";
	return b[share >= 10000 ? 4 : share / 2000];
}

static struct json_object *heat_json(struct req *r, const struct dashboard_heat *h)
{
	struct json_object *o = json_object_new_object(), *cols = json_object_new_array();
	struct json_object *rows = json_object_new_array(), *cells = json_object_new_array();

	page_coord_int(o, "width", HM_LEFT + (int64_t)h->n_comps * HM_CW + HM_RIGHT);
	page_coord_int(o, "height", HM_TOP + (int64_t)h->n_groups * HM_CH + 12);
	for (size_t c = 0; c < h->n_comps; c++) {
		struct json_object *x = json_object_new_object();
		int64_t cx = HM_LEFT + (int64_t)c * HM_CW + HM_CW / 2;

		page_coord_str(x, "idnumber", h->comps[c].idnumber);
		page_coord_str(x, "shortname", h->comps[c].shortname);
		page_coord_int(x, "x", cx);
		page_coord_int(x, "y", HM_TOP - 10);
		json_object_array_add(cols, x);
	}
	for (size_t g = 0; g < h->n_groups; g++) {
		struct json_object *x = json_object_new_object(), *tcells = json_object_new_array();

		page_coord_str(x, "label", group_label(h->groups[g]));
		page_coord_int(x, "learners", h->learners[g]);
		page_coord_int(x, "x", HM_LEFT - 10);
		page_coord_int(x, "y", HM_TOP + (int64_t)g * HM_CH + HM_CH / 2 + 5);
		for (size_t c = 0; c < h->n_comps; c++) {
			struct json_object *cell = json_object_new_object();
			int64_t share = dashboard_share(h, g, c);
			int64_t prof = h->proficient[g * h->n_comps + c];
			int64_t rated = h->rated[g * h->n_comps + c];
			const char *text = share < 0 ? "–" : pct(r, share);
			const char *title = arena_printf(r->arena, "%s, %s (%s): %lld of %lld learners "
							 "proficient (%s); %lld rated",
							 group_label(h->groups[g]),
							 h->comps[c].shortname, h->comps[c].idnumber,
							 (long long)prof, (long long)h->learners[g],
							 share < 0 ? "no learners" : text,
							 (long long)rated);

			page_coord_int(cell, "x", HM_LEFT + (int64_t)c * HM_CW + 1);
			page_coord_int(cell, "y", HM_TOP + (int64_t)g * HM_CH + 1);
			page_coord_int(cell, "w", HM_CW - 2);
			page_coord_int(cell, "h", HM_CH - 2);
			page_coord_int(cell, "tx", HM_LEFT + (int64_t)c * HM_CW + HM_CW / 2);
			page_coord_int(cell, "ty", HM_TOP + (int64_t)g * HM_CH + HM_CH / 2 + 5);
			page_coord_str(cell, "band", band(share));
			page_coord_str(cell, "text", text);
			page_coord_str(cell, "title", title);
			json_object_array_add(cells, json_object_get(cell));
			/* the table shows the same numbers */
			page_coord_str(cell, "detail", arena_printf(r->arena, "%lld of %lld (%s)",
				       (long long)prof, (long long)h->learners[g], text));
			json_object_array_add(tcells, cell);
		}
		json_object_object_add(x, "cells", tcells);
		json_object_array_add(rows, x);
	}
	json_object_object_add(o, "cols", cols);
	json_object_object_add(o, "rows", rows);
	json_object_object_add(o, "cells", cells);
	page_coord_bool(o, "empty", h->n_groups == 0 || h->n_comps == 0);
	return o;
}

static struct json_object *rates_json(struct req *r, const struct dashboard_period *v, int n,
				      bool monthly)
{
	struct json_object *o = json_object_new_object(), *bars = json_object_new_array();
	struct json_object *grid = json_object_new_array();
	int64_t base = PR_TOP + PR_H, any = 0;

	page_coord_int(o, "width", PR_LEFT + (int64_t)n * PR_BW + 12);
	page_coord_int(o, "height", PR_TOP + PR_H + 52);
	for (int k = 0; k <= 4; k++) {
		struct json_object *x = json_object_new_object();

		page_coord_int(x, "y", base - (int64_t)k * PR_H / 4);
		page_coord_int(x, "ty", base - (int64_t)k * PR_H / 4 + 4);
		page_coord_str(x, "label", arena_printf(r->arena, "%d%%", k * 25));
		json_object_array_add(grid, x);
	}
	page_coord_int(o, "left", PR_LEFT);
	page_coord_int(o, "right", PR_LEFT + (int64_t)n * PR_BW);
	page_coord_int(o, "label_x", PR_LEFT - 6);
	for (int i = 0; i < n; i++) {
		struct json_object *x = json_object_new_object();
		int64_t rate = v[i].total > 0 ? v[i].passed * 10000 / v[i].total : -1;
		int64_t h = rate < 0 ? 0 : rate * PR_H / 10000;
		int64_t x0 = PR_LEFT + (int64_t)i * PR_BW + (PR_BW - PR_BAR) / 2;
		const char *when = monthly ? arena_printf(r->arena, "%s", v[i].label) :
				   arena_printf(r->arena, "Week of %s", v[i].label);

		any += v[i].total;
		page_coord_int(x, "x", x0);
		page_coord_int(x, "w", PR_BAR);
		page_coord_int(x, "y", base - h);
		page_coord_int(x, "h", h);
		page_coord_bool(x, "has", rate >= 0);
		page_coord_int(x, "cx", x0 + PR_BAR / 2);
		page_coord_int(x, "vy", base - h - 5);
		page_coord_int(x, "ly", base + 16);
		page_coord_int(x, "ny", base + 32);
		page_coord_str(x, "value", rate < 0 ? "–" : pct(r, rate));
		page_coord_str(x, "short", monthly ? v[i].label : v[i].label + 5);
		page_coord_str(x, "when", when);
		page_coord_str(x, "start", v[i].start);
		page_coord_int(x, "total", v[i].total);
		page_coord_int(x, "passed", v[i].passed);
		page_coord_str(x, "title", rate < 0 ?
			       arena_printf(r->arena, "%s: no observations", when) :
			       arena_printf(r->arena, "%s: %lld of %lld observations passed (%s)",
					    when, (long long)v[i].passed, (long long)v[i].total,
					    pct(r, rate)));
		json_object_array_add(bars, x);
	}
	json_object_object_add(o, "bars", bars);
	json_object_object_add(o, "grid", grid);
	page_coord_bool(o, "empty", any == 0);
	return o;
}

static void heat_csv(struct req *r, const struct program *p, const struct dashboard_heat *h)
{
	struct csv c;

	csv_init(&c);
	csv_cell(&c, "group");
	csv_cell(&c, "competency");
	csv_cell(&c, "shortname");
	csv_cell(&c, "learners");
	csv_cell(&c, "rated");
	csv_cell(&c, "proficient");
	csv_cell(&c, "share_proficient");
	csv_end(&c);
	for (size_t g = 0; g < h->n_groups; g++) {
		for (size_t k = 0; k < h->n_comps; k++) {
			int64_t share = dashboard_share(h, g, k);

			csv_cell(&c, h->groups[g]);
			csv_cell(&c, h->comps[k].idnumber);
			csv_cell(&c, h->comps[k].shortname);
			csv_num(&c, r->arena, h->learners[g]);
			csv_num(&c, r->arena, h->rated[g * h->n_comps + k]);
			csv_num(&c, r->arena, h->proficient[g * h->n_comps + k]);
			csv_cell(&c, share < 0 ? "" : pct_csv(r, share));
			csv_end(&c);
		}
	}
	csv_send(r, &c, arena_printf(r->arena, "proficiency-%s.csv", p->key));
}

static void rates_csv(struct req *r, const struct program *p, const struct dashboard_period *v,
		      int n, bool monthly)
{
	struct csv c;

	csv_init(&c);
	csv_cell(&c, "period_start");
	csv_cell(&c, monthly ? "month" : "week_of");
	csv_cell(&c, "observations");
	csv_cell(&c, "passed");
	csv_cell(&c, "pass_rate");
	csv_end(&c);
	for (int i = 0; i < n; i++) {
		csv_cell(&c, v[i].start);
		csv_cell(&c, v[i].label);
		csv_num(&c, r->arena, v[i].total);
		csv_num(&c, r->arena, v[i].passed);
		csv_cell(&c, v[i].total > 0 ? pct_csv(r, v[i].passed * 10000 / v[i].total) : "");
		csv_end(&c);
	}
	csv_send(r, &c, arena_printf(r->arena, "pass-rates-%s-%s.csv", monthly ? "monthly" :
				     "weekly", p->key));
}

void page_reports(struct req *r)
{
	struct dashboard_program *progs = NULL;
	struct dashboard_period *periods = NULL;
	struct dashboard_heat heat;
	struct program *p = NULL;
	const char *want = req_param(r, "program"), *per = req_param(r, "period");
	const char *fmt = req_param(r, "format"), *table = req_param(r, "table");
	bool monthly = per != NULL && strcmp(per, "month") == 0;
	size_t n = 0, sel = 0;
	int64_t ctx;
	struct json_object *data, *list;
	enum at_rc rc;

	if (!page_coord_course(r, &ctx))
		return;
	rc = dashboard_programs(g_app.db, r->arena, ctx, &progs, &n);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot list the programs");
		return;
	}
	if (want != NULL && *want != '\0') {
		for (sel = 0; sel < n; sel++)
			if (strcmp(progs[sel].key, want) == 0 ||
			    strcmp(arena_printf(r->arena, "%lld", (long long)progs[sel].id), want) == 0)
				break;
		if (sel == n) {
			http_error_page(r, 404, "Not found", "This program is not used in the "
					"course.");
			return;
		}
	}
	if (n > 0) {
		rc = program_load(g_app.db, r->arena, progs[sel].key, 0, &p);
		if (rc == AT_OK)
			rc = dashboard_heatmap(g_app.db, r->arena, p, ctx, &heat);
		if (rc == AT_OK)
			rc = dashboard_passrates(g_app.db, r->arena, p->id, ctx, monthly, PERIODS,
						 api_now(), &periods);
		if (rc != AT_OK) {
			http_error(r, rc, "cannot build the reports of %s", progs[sel].key);
			return;
		}
	}
	if (fmt != NULL && strcmp(fmt, "csv") == 0) {
		if (p == NULL) {
			http_error_page(r, 404, "Not found", "No program is used in this course.");
		} else if (table != NULL && strcmp(table, "passrates") == 0) {
			rates_csv(r, p, periods, PERIODS, monthly);
		} else if (table != NULL && strcmp(table, "heatmap") == 0) {
			heat_csv(r, p, &heat);
		} else {
			http_error_page(r, 400, "Bad request", "table must be heatmap or passrates.");
		}
		return;
	}
	data = page_coord_root(r, ctx);
	if (data == NULL)
		return;
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *x = json_object_new_object();

		page_coord_int(x, "id", progs[i].id);
		page_coord_str(x, "key", progs[i].key);
		page_coord_str(x, "title", progs[i].title);
		page_coord_bool(x, "selected", i == sel);
		json_object_array_add(list, x);
	}
	json_object_object_add(data, "programs", list);
	page_coord_bool(data, "monthly", monthly);
	page_coord_str(data, "period", monthly ? "month" : "week");
	if (p != NULL) {
		struct json_object *pj = json_object_new_object();

		page_coord_int(pj, "id", p->id);
		page_coord_str(pj, "key", p->key);
		page_coord_str(pj, "title", p->title);
		json_object_object_add(data, "program", pj);
		json_object_object_add(data, "heat", heat_json(r, &heat));
		json_object_object_add(data, "rates", rates_json(r, periods, PERIODS, monthly));
	}
	tmpl_page(r, "Reports", "coord/reports", data);
}
