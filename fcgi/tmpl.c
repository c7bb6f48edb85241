/* tmpl.c: the page templates of web/templates/ (docs/templates.md). A template is parsed
 * once into a tree of nodes; while parsing, a small HTML tokenizer follows where each value
 * tag stands (text, quoted attribute, start of a URL attribute) and refuses the places where
 * escaping cannot make a value safe (script, style, event handlers, unquoted attributes, tag
 * and attribute names, comments). Rendering walks the tree with a json-c context stack and
 * writes every value through html.c. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/arena.h"
#include "core/identity.h"
#include "core/log.h"
#include "core/mem.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/session.h"
#include "fcgi/tmpl.h"

#define MAX_FILE (1 << 20)
#define MAX_DEPTH 32		/* nested sections */
#define MAX_PARTIAL_DEPTH 8
#define MAX_FILES 512

enum kind { N_TEXT, N_VAR, N_SECTION, N_INVERTED, N_PARTIAL };
enum vctx { C_TEXT, C_ATTR, C_URL };
enum filter { F_NONE, F_URL, F_JSON };

struct node {
	enum kind kind;
	const char *s;		/* text, name or dotted path */
	size_t len;
	enum vctx ctx;
	enum filter filter;
	struct node *kids;	/* sections */
	size_t nkids;
	int line;
};

struct tmpl {
	const char *name;
	struct node *nodes;
	size_t n;
};

struct tmpl_set {
	struct arena *a;
	struct tmpl *t;
	size_t n;
};

/* ---------------------------------------------------------------- HTML state tracking */

enum hstate {
	H_DATA, H_TAG_NAME, H_BEFORE_ATTR, H_ATTR_NAME, H_AFTER_ATTR_NAME, H_BEFORE_VALUE,
	H_VALUE_Q, H_VALUE_UNQ, H_RAWTEXT, H_COMMENT,
};

struct html_state {
	enum hstate st;
	char quote;
	char tag[16];		/* lowercased tag name (truncated) */
	size_t tag_len;
	char attr[24];		/* lowercased attribute name (truncated) */
	size_t attr_len;
	size_t value_pos;	/* characters of the current attribute value so far */
	bool closing;		/* </tag> */
	char last[2];		/* the last two literal characters */
	bool raw_after_tag;	/* the tag is <script> or <style>: raw text follows */
	const char *raw_end;	/* "</script" or "</style" */
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void end_tag(struct html_state *h)
{
	h->st = H_DATA;
	if (h->raw_after_tag) {
		h->st = H_RAWTEXT;
		h->raw_after_tag = false;
	}
}

/* Advance h over literal template text s[0..n). */
static void html_advance(struct html_state *h, const char *s, size_t n)
{
	if (n >= 2) {
		h->last[0] = s[n - 2];
		h->last[1] = s[n - 1];
	} else if (n == 1) {
		h->last[0] = h->last[1];
		h->last[1] = s[0];
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		switch (h->st) {
		case H_DATA:
			if (c != '<')
				break;
			if (i + 4 <= n && strncmp(s + i, "<!--", 4) == 0) {
				h->st = H_COMMENT;
				i += 3;
			} else if (i + 1 < n && (is_alpha(s[i + 1]) || s[i + 1] == '/')) {
				h->st = H_TAG_NAME;
				h->tag_len = 0;
				h->closing = s[i + 1] == '/';
				if (h->closing)
					i++;
			}
			break;
		case H_COMMENT:
			if (c == '>' && i >= 2 && s[i - 1] == '-' && s[i - 2] == '-')
				h->st = H_DATA;
			break;
		case H_RAWTEXT: {
			size_t m = strlen(h->raw_end);

			if (c == '<' && i + m <= n && strncasecmp(s + i, h->raw_end, m) == 0) {
				h->st = H_TAG_NAME;
				h->tag_len = 0;
				h->closing = true;
				i++;	/* the '/' */
			}
			break;
		}
		case H_TAG_NAME:
			if (is_space(c) || c == '>' || c == '/') {
				h->tag[h->tag_len < sizeof(h->tag) ? h->tag_len : sizeof(h->tag) - 1] = '\0';
				if (!h->closing && (strcmp(h->tag, "script") == 0 ||
						strcmp(h->tag, "style") == 0)) {
					h->raw_after_tag = true;
					h->raw_end = h->tag[1] == 'c' ? "</script" : "</style";
				}
				if (c == '>')
					end_tag(h);
				else
					h->st = H_BEFORE_ATTR;
			} else if (h->tag_len + 1 < sizeof(h->tag)) {
				h->tag[h->tag_len++] = lower(c);
			} else {
				h->tag_len++;
			}
			break;
		case H_BEFORE_ATTR:
			if (c == '>')
				end_tag(h);
			else if (!is_space(c) && c != '/') {
				h->st = H_ATTR_NAME;
				h->attr_len = 0;
				h->attr[h->attr_len++] = lower(c);
				h->attr[h->attr_len] = '\0';
			}
			break;
		case H_ATTR_NAME:
			if (c == '=')
				h->st = H_BEFORE_VALUE;
			else if (is_space(c))
				h->st = H_AFTER_ATTR_NAME;
			else if (c == '>')
				end_tag(h);
			else if (h->attr_len + 1 < sizeof(h->attr)) {
				h->attr[h->attr_len++] = lower(c);
				h->attr[h->attr_len] = '\0';
			}
			break;
		case H_AFTER_ATTR_NAME:
			if (c == '=')
				h->st = H_BEFORE_VALUE;
			else if (c == '>')
				end_tag(h);
			else if (!is_space(c)) {
				h->st = H_ATTR_NAME;
				h->attr_len = 0;
				h->attr[h->attr_len++] = lower(c);
				h->attr[h->attr_len] = '\0';
			}
			break;
		case H_BEFORE_VALUE:
			if (c == '\'' || c == '"') {
				h->st = H_VALUE_Q;
				h->quote = c;
				h->value_pos = 0;
			} else if (c == '>') {
				end_tag(h);
			} else if (!is_space(c)) {
				h->st = H_VALUE_UNQ;
			}
			break;
		case H_VALUE_Q:
			if (c == h->quote)
				h->st = H_BEFORE_ATTR;
			else
				h->value_pos++;
			break;
		case H_VALUE_UNQ:
			if (is_space(c))
				h->st = H_BEFORE_ATTR;
			else if (c == '>')
				end_tag(h);
			break;
		}
	}
}

static bool url_attr(const char *a)
{
	static const char *const names[] = { "href", "src", "action", "formaction", "poster",
					     "xlink:href", "cite", "data", NULL };

	for (size_t i = 0; names[i] != NULL; i++)
		if (strcmp(a, names[i]) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- parsing */

struct parser {
	struct arena *a;
	const char *name;
	const char *src;
	size_t len, pos;
	int line;
	struct html_state h;
	struct at_err *err;
};

static enum at_rc perr(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum at_rc perr(struct parser *p, int line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return at_fail(p->err, AT_BADREQ, "%s.html:%d: %s", p->name, line, msg);
}

static int count_lines(const char *s, size_t n)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
}

static bool valid_name(const char *s, size_t n, bool partial)
{
	if (n == 0)
		return false;
	if (n == 1 && s[0] == '.')
		return !partial;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!(is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
		      (c == '@' && i == 0) || (partial && c == '/')))
			return false;
	}
	return true;
}

/* Parse nodes until "{{/close}}" (close NULL: end of file). */
static enum at_rc parse_nodes(struct parser *p, const char *close, size_t close_len,
			      int depth, struct node **out, size_t *nout)
{
	struct node *v = NULL;
	size_t n = 0, cap = 0;

	if (depth > MAX_DEPTH)
		return perr(p, p->line, "sections nested deeper than %d", MAX_DEPTH);
	for (;;) {
		const char *open = p->pos < p->len ? strstr(p->src + p->pos, "{{") : NULL;
		size_t text_end = open ? (size_t)(open - p->src) : p->len;

		if (text_end > p->pos) {
			v = arena_reserve(p->a, v, n, &cap, sizeof(*v));
			memset(&v[n], 0, sizeof(v[n]));
			v[n].kind = N_TEXT;
			v[n].s = p->src + p->pos;
			v[n].len = text_end - p->pos;
			v[n].line = p->line;
			html_advance(&p->h, v[n].s, v[n].len);
			p->line += count_lines(v[n].s, v[n].len);
			n++;
			p->pos = text_end;
		}
		if (open == NULL) {
			if (close != NULL)
				return perr(p, p->line, "section {{#%.*s}} is not closed",
					    (int)close_len, close);
			break;
		}
		const char *end = strstr(open + 2, "}}");

		if (end == NULL)
			return perr(p, p->line, "'{{' without '}}'");
		const char *t = open + 2;
		size_t tl = (size_t)(end - t);
		int line = p->line;

		p->line += count_lines(t, tl);
		p->pos = (size_t)(end - p->src) + 2;
		while (tl > 0 && is_space(*t)) {
			t++;
			tl--;
		}
		while (tl > 0 && is_space(t[tl - 1]))
			tl--;
		if (tl > 0 && t[0] == '!')
			continue;	/* comment */
		if (tl > 0 && t[0] == '/') {
			t++;
			tl--;
			if (close == NULL || tl != close_len || memcmp(t, close, tl) != 0)
				return perr(p, line, "{{/%.*s}} closes nothing open", (int)tl, t);
			break;
		}
		v = arena_reserve(p->a, v, n, &cap, sizeof(*v));
		struct node *nd = &v[n];

		memset(nd, 0, sizeof(*nd));
		nd->line = line;
		if (tl > 0 && (t[0] == '#' || t[0] == '^')) {
			nd->kind = t[0] == '#' ? N_SECTION : N_INVERTED;
			t++;
			tl--;
			if (!valid_name(t, tl, false))
				return perr(p, line, "bad section name '%.*s'", (int)tl, t);
			if (p->h.st == H_RAWTEXT || p->h.st == H_COMMENT)
				return perr(p, line, "a section inside <script>, <style> or a comment");
			nd->s = t;
			nd->len = tl;
			n++;
			struct node *kids = NULL;
			size_t nk = 0;
			enum at_rc rc = parse_nodes(p, t, tl, depth + 1, &kids, &nk);

			if (rc != AT_OK)
				return rc;
			v[n - 1].kids = kids;
			v[n - 1].nkids = nk;
			continue;
		}
		if (tl > 0 && t[0] == '>') {
			t++;
			tl--;
			while (tl > 0 && is_space(*t)) {
				t++;
				tl--;
			}
			if (!(tl == 5 && memcmp(t, "@body", 5) == 0) && !valid_name(t, tl, true))
				return perr(p, line, "bad partial name '%.*s'", (int)tl, t);
			if (p->h.st != H_DATA)
				return perr(p, line, "a partial must stand in text, not inside a tag "
					    "or <script>/<style>");
			nd->kind = N_PARTIAL;
			nd->s = t;
			nd->len = tl;
			n++;
			continue;
		}
		if (tl > 0 && (t[0] == '&' || t[0] == '{'))
			return perr(p, line, "unescaped output is not supported");
		/* a value, maybe with a filter */
		const char *bar = memchr(t, '|', tl);
		size_t nl = bar ? (size_t)(bar - t) : tl;

		nd->kind = N_VAR;
		if (bar != NULL) {
			const char *f = bar + 1;
			size_t fl = tl - nl - 1;

			if (fl == 3 && memcmp(f, "url", 3) == 0)
				nd->filter = F_URL;
			else if (fl == 4 && memcmp(f, "json", 4) == 0)
				nd->filter = F_JSON;
			else
				return perr(p, line, "unknown filter '%.*s'", (int)fl, f);
		}
		if (!valid_name(t, nl, false))
			return perr(p, line, "bad name '%.*s'", (int)nl, t);
		nd->s = t;
		nd->len = nl;
		switch (p->h.st) {
		case H_DATA:
			if (p->h.last[1] == '<' || (p->h.last[0] == '<' && p->h.last[1] == '/'))
				return perr(p, line, "a value in a tag or attribute name");
			nd->ctx = C_TEXT;
			break;
		case H_VALUE_Q:
			if (strncmp(p->h.attr, "on", 2) == 0 || strcmp(p->h.attr, "style") == 0 ||
			    strcmp(p->h.attr, "srcdoc") == 0)
				return perr(p, line, "a value inside the %s attribute", p->h.attr);
			nd->ctx = url_attr(p->h.attr) && p->h.value_pos == 0 && nd->filter != F_URL ?
					  C_URL : C_ATTR;
			p->h.value_pos++;
			break;
		case H_RAWTEXT:
			return perr(p, line, "a value inside <script> or <style>");
		case H_COMMENT:
			return perr(p, line, "a value inside an HTML comment");
		case H_VALUE_UNQ:
		case H_BEFORE_VALUE:
			return perr(p, line, "a value in an unquoted attribute");
		default:
			return perr(p, line, "a value in a tag or attribute name");
		}
		n++;
	}
	*out = v;
	*nout = n;
	return AT_OK;
}

static enum at_rc read_file(struct arena *a, const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return AT_INTERNAL;
	buf = arena_alloc(a, MAX_FILE + 1);
	n = fread(buf, 1, MAX_FILE + 1, f);
	fclose(f);
	if (n > MAX_FILE)
		return AT_TOOBIG;
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL)
		return AT_BADREQ;
	*out = buf;
	*len = n;
	return AT_OK;
}

struct loader {
	struct tmpl_set *set;
	size_t cap;
	struct at_err *err;
};

static enum at_rc load_one(struct loader *l, const char *path, const char *name)
{
	struct parser p;
	char *src;
	size_t len;
	enum at_rc rc = read_file(l->set->a, path, &src, &len);

	if (rc != AT_OK) {
		return at_fail(l->err, AT_BADREQ, "%s: cannot read the template (%s)", path,
			       rc == AT_TOOBIG ? "over 1 MiB" : rc == AT_BADREQ ? "NUL byte" :
			       strerror(errno));
	}
	if (l->set->n >= MAX_FILES) {
		return at_fail(l->err, AT_BADREQ, "more than %d templates", MAX_FILES);
	}
	memset(&p, 0, sizeof(p));
	p.a = l->set->a;
	p.name = name;
	p.src = src;
	p.len = len;
	p.line = 1;
	p.err = l->err;
	l->set->t = arena_reserve(l->set->a, l->set->t, l->set->n, &l->cap,
				  sizeof(*l->set->t));
	struct tmpl *t = &l->set->t[l->set->n];

	t->name = name;
	rc = parse_nodes(&p, NULL, 0, 0, &t->nodes, &t->n);
	if (rc != AT_OK)
		return rc;
	if (p.h.st != H_DATA)
		return perr(&p, p.line, "the template ends inside a tag, comment or <script>");
	l->set->n++;
	return AT_OK;
}

static enum at_rc load_dir(struct loader *l, const char *dir, const char *prefix, int depth)
{
	DIR *d;
	struct dirent *e;
	enum at_rc rc = AT_OK;

	if (depth > 4)
		return AT_OK;
	d = opendir(dir);
	if (d == NULL) {
		return at_fail(l->err, AT_INTERNAL, "%s: %s", dir, strerror(errno));
	}
	while (rc == AT_OK && (e = readdir(d)) != NULL) {
		const char *nm = e->d_name;
		size_t nl = strlen(nm);
		char *path;
		struct stat st;

		if (nm[0] == '.')
			continue;
		path = arena_printf(l->set->a, "%s/%s", dir, nm);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			rc = load_dir(l, path, arena_printf(l->set->a, "%s%s/", prefix, nm), depth + 1);
		} else if (S_ISREG(st.st_mode) && nl > 5 && strcmp(nm + nl - 5, ".html") == 0) {
			rc = load_one(l, path, arena_printf(l->set->a, "%s%.*s", prefix,
							    (int)(nl - 5), nm));
		}
	}
	closedir(d);
	return rc;
}

static int cmp_tmpl(const void *x, const void *y)
{
	return strcmp(((const struct tmpl *)x)->name, ((const struct tmpl *)y)->name);
}

static const struct tmpl *find(const struct tmpl_set *set, const char *name, size_t len)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(set->t[mid].name, name, len);

		if (c == 0 && set->t[mid].name[len] != '\0')
			c = 1;
		if (c == 0)
			return &set->t[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Every partial names a template that exists. */
static enum at_rc check_partials(const struct tmpl_set *set, const struct tmpl *t,
				 const struct node *v, size_t n, struct at_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].kind == N_PARTIAL && !(v[i].len == 5 && memcmp(v[i].s, "@body", 5) == 0) &&
		    find(set, v[i].s, v[i].len) == NULL) {
			return at_fail(err, AT_BADREQ, "%s.html:%d: no template '%.*s' to include",
				       t->name, v[i].line, (int)v[i].len, v[i].s);
		}
		if (v[i].nkids > 0 && check_partials(set, t, v[i].kids, v[i].nkids, err) != AT_OK)
			return AT_BADREQ;
	}
	return AT_OK;
}

enum at_rc tmpl_load(const char *dir, struct tmpl_set **out, struct at_err *err)
{
	struct loader l;
	enum at_rc rc;

	memset(&l, 0, sizeof(l));
	l.set = xcalloc(1, sizeof(*l.set));
	l.set->a = arena_new();
	l.err = err;
	rc = load_dir(&l, dir, "", 0);
	if (rc == AT_OK) {
		qsort(l.set->t, l.set->n, sizeof(*l.set->t), cmp_tmpl);
		for (size_t i = 0; rc == AT_OK && i < l.set->n; i++)
			rc = check_partials(l.set, &l.set->t[i], l.set->t[i].nodes, l.set->t[i].n,
					    err);
	}
	if (rc != AT_OK) {
		tmpl_free(l.set);
		return rc;
	}
	*out = l.set;
	return AT_OK;
}

void tmpl_free(struct tmpl_set *t)
{
	if (t == NULL)
		return;
	arena_free(t->a);
	xfree(t);
}

/* ---------------------------------------------------------------- rendering */

struct render {
	struct req *r;
	const struct tmpl_set *set;
	struct json_object *stack[MAX_DEPTH + 2];
	int depth;
	struct json_object *specials;
	const struct tmpl *body;	/* for {{>@body}} */
	struct json_object *body_data;
	int partials;
};

/* One segment of a dotted path in o; NULL when absent. */
static struct json_object *member(struct json_object *o, const char *s, size_t n)
{
	char key[128];
	struct json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object) || n >= sizeof(key))
		return NULL;
	memcpy(key, s, n);
	key[n] = '\0';
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static struct json_object *lookup(struct render *rd, const char *s, size_t n, bool *found)
{
	const char *dot = memchr(s, '.', n);
	size_t first = dot && s[0] != '.' ? (size_t)(dot - s) : n;
	struct json_object *v = NULL;

	*found = false;
	if (n == 1 && s[0] == '.') {
		*found = true;
		return rd->stack[rd->depth];
	}
	if (s[0] == '@') {
		char key[64];
		struct json_object *sp = NULL;

		if (first < sizeof(key)) {
			memcpy(key, s, first);
			key[first] = '\0';
			*found = json_object_object_get_ex(rd->specials, key, &sp);
		}
		v = sp;
	} else {
		for (int d = rd->depth; d >= 0; d--) {
			struct json_object *o = rd->stack[d];

			if (o != NULL && json_object_is_type(o, json_type_object) &&
			    json_object_object_get_ex(o, arena_strndup(rd->r->arena, s, first), &v)) {
				*found = true;
				break;
			}
		}
	}
	while (*found && first < n) {
		const char *seg = s + first + 1;
		const char *nx = memchr(seg, '.', n - first - 1);
		size_t sl = nx ? (size_t)(nx - seg) : n - first - 1;

		v = member(v, seg, sl);
		*found = v != NULL;
		first += 1 + sl;
	}
	return v;
}

static bool truthy(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return false;
	case json_type_boolean:
		return json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) != 0;
	case json_type_double:
		return json_object_get_double(v) != 0;
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_array:
		return json_object_array_length(v) > 0;
	case json_type_object:
		return true;
	}
	return false;
}

static const char *scalar_text(struct arena *a, struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "";
	case json_type_boolean:
		return json_object_get_boolean(v) ? "true" : "false";
	case json_type_int:
		return arena_printf(a, "%lld", (long long)json_object_get_int64(v));
	case json_type_double: {
		char *s = arena_printf(a, "%.2f", json_object_get_double(v));
		size_t n = strlen(s);

		while (n > 0 && s[n - 1] == '0')
			s[--n] = '\0';
		if (n > 0 && s[n - 1] == '.')
			s[--n] = '\0';
		return s;
	}
	case json_type_string:
		return json_object_get_string(v);
	default:
		return NULL;
	}
}

/* A URL attribute value that may start the attribute: relative, or http(s)/mailto. */
static bool safe_url(const char *u)
{
	size_t n = strcspn(u, ":/?#");

	if (u[n] != ':')
		return true;	/* no scheme */
	return (n == 4 && strncasecmp(u, "http", 4) == 0) ||
	       (n == 5 && strncasecmp(u, "https", 5) == 0) ||
	       (n == 6 && strncasecmp(u, "mailto", 6) == 0);
}

static void render_nodes(struct render *rd, const struct node *v, size_t n);

static void render_var(struct render *rd, const struct node *nd)
{
	bool found;
	struct json_object *v = lookup(rd, nd->s, nd->len, &found);
	const char *s;

	if (nd->filter == F_JSON) {
		html_attr(rd->r, found ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) :
				       "null");
		return;
	}
	if (!found)
		return;
	s = scalar_text(rd->r->arena, v);
	if (s == NULL) {
		log_msg(LOG_WARN, rd->r->rid, "op=template value=%.*s line=%d is an object or array",
			(int)nd->len, nd->s, nd->line);
		return;
	}
	if (nd->filter == F_URL)
		html_url_arg(rd->r, s);
	else if (nd->ctx == C_URL && !safe_url(s))
		html(rd->r, "#");
	else
		html_attr(rd->r, s);
}

static void push(struct render *rd, struct json_object *o, const struct node *nd)
{
	if (rd->depth + 1 >= (int)NELEM(rd->stack))
		return;
	rd->stack[++rd->depth] = o;
	render_nodes(rd, nd->kids, nd->nkids);
	rd->depth--;
}

static void render_section(struct render *rd, const struct node *nd)
{
	bool found;
	struct json_object *v = lookup(rd, nd->s, nd->len, &found);
	bool on = found && truthy(v);

	if (nd->kind == N_INVERTED) {
		if (!on)
			render_nodes(rd, nd->kids, nd->nkids);
		return;
	}
	if (!on)
		return;
	if (json_object_is_type(v, json_type_array)) {
		size_t k = json_object_array_length(v);

		for (size_t i = 0; i < k; i++)
			push(rd, json_object_array_get_idx(v, i), nd);
	} else if (json_object_is_type(v, json_type_object)) {
		push(rd, v, nd);
	} else {
		render_nodes(rd, nd->kids, nd->nkids);
	}
}

static void render_partial(struct render *rd, const struct node *nd)
{
	const struct tmpl *t;

	if (rd->partials >= MAX_PARTIAL_DEPTH) {
		log_msg(LOG_WARN, rd->r->rid, "op=template partials nested deeper than %d",
			MAX_PARTIAL_DEPTH);
		return;
	}
	if (nd->len == 5 && memcmp(nd->s, "@body", 5) == 0) {
		t = rd->body;
	} else {
		t = find(rd->set, nd->s, nd->len);
	}
	if (t == NULL)
		return;
	rd->partials++;
	render_nodes(rd, t->nodes, t->n);
	rd->partials--;
}

static void render_nodes(struct render *rd, const struct node *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (v[i].kind) {
		case N_TEXT:
			html_raw(rd->r, v[i].s, v[i].len);
			break;
		case N_VAR:
			render_var(rd, &v[i]);
			break;
		case N_SECTION:
		case N_INVERTED:
			render_section(rd, &v[i]);
			break;
		case N_PARTIAL:
			render_partial(rd, &v[i]);
			break;
		}
	}
}

static void json_put(void *o)
{
	json_object_put(o);
}

static void put_special(struct json_object *sp, const char *k, const char *v)
{
	json_object_object_add(sp, k, json_object_new_string(v ? v : ""));
}

/* The @ names of a request; the object is freed with the request. */
static struct json_object *specials(struct req *r, const char *title)
{
	struct json_object *sp = json_object_new_object();
	int role = r->sess ? r->sess->s.role : 0;

	arena_on_free(r->arena, json_put, sp);
	put_special(sp, "@s", r->sess ? r->sess->token : "");
	put_special(sp, "@csrf", r->sess ? r->sess->s.csrf : "");
	put_special(sp, "@base", g_app.cfg.base_url);
	put_special(sp, "@rid", r->rid);
	put_special(sp, "@title", title);
	put_special(sp, "@role", role & ROLE_ADMIN ? "administrator" :
			 role & ROLE_ASSESSOR ? "instructor" : role & ROLE_LEARNER ? "learner" : "");
	json_object_object_add(sp, "@is_staff",
			       json_object_new_boolean((role & (ROLE_ASSESSOR | ROLE_ADMIN)) != 0));
	json_object_object_add(sp, "@is_admin", json_object_new_boolean((role & ROLE_ADMIN) != 0));
	json_object_object_add(sp, "@is_learner",
			       json_object_new_boolean(role == 0 || (role & ROLE_LEARNER) != 0));
	if (r->sess != NULL) {
		struct user u;
		struct context c;

		memset(&u, 0, sizeof(u));
		memset(&c, 0, sizeof(c));
		if (identity_user_get(g_app.db, r->arena, r->sess->s.user_id, &u) == AT_OK)
			put_special(sp, "@user", u.name && *u.name ? u.name : "Signed in");
		if (r->sess->s.context_id > 0 &&
		    identity_context_get(g_app.db, r->arena, r->sess->s.context_id, &c) == AT_OK)
			put_special(sp, "@course", c.title && *c.title ? c.title : c.label);
	}
	return sp;
}

static enum at_rc render(struct req *r, const char *name, const char *layout,
			 struct json_object *data, const char *title)
{
	struct render rd;
	const struct tmpl *t, *lt = NULL;

	if (g_app.tmpl == NULL)
		return AT_INTERNAL;
	t = find(g_app.tmpl, name, strlen(name));
	if (t == NULL)
		return AT_NOTFOUND;
	if (layout != NULL) {
		lt = find(g_app.tmpl, layout, strlen(layout));
		if (lt == NULL)
			return AT_NOTFOUND;
	}
	memset(&rd, 0, sizeof(rd));
	rd.r = r;
	rd.set = g_app.tmpl;
	rd.stack[0] = data;
	rd.specials = specials(r, title);
	rd.body = t;
	if (lt != NULL)
		render_nodes(&rd, lt->nodes, lt->n);
	else
		render_nodes(&rd, t->nodes, t->n);
	return AT_OK;
}

enum at_rc tmpl_render(struct req *r, const char *name, struct json_object *data)
{
	return render(r, name, NULL, data, "");
}

void tmpl_page(struct req *r, const char *title, const char *name, struct json_object *data)
{
	enum at_rc rc;

	http_html_headers(r);
	rc = render(r, name, "layout", data, title);
	if (rc != AT_OK) {
		buf_reset(&r->out);
		buf_reset(&r->headers);
		http_error(r, AT_INTERNAL, "template %s: %s", name,
			   rc == AT_NOTFOUND ? "not found" : "not loaded");
	}
}

enum at_rc tmpl_app_init(struct at_err *err)
{
	char dir[4096];

	if (g_app.tmpl != NULL)
		return AT_OK;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/templates", g_app.cfg.web_dir) >= sizeof(dir))
		return at_fail(err, AT_BADREQ, "web_dir is too long");
	return tmpl_load(dir, &g_app.tmpl, err);
}
