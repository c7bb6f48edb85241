/* test_tmpl.c: the page templates — contextual escaping, sections, partials, filters, and
 * the templates that refuse to load (values where no escaping is safe). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/arena.h"
#include "fcgi/app.h"
#include "fcgi/req.h"
#include "fcgi/tmpl.h"

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.html", dir, name);
	if (strchr(name, '/') != NULL) {
		char sub[256];

		snprintf(sub, sizeof(sub), "%s/%.*s", dir, (int)(strchr(name, '/') - name), name);
		mkdir(sub, 0700);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void clear(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/*", dir);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/attest-tmpl-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* Render name with the JSON data text; returns the output (from a). */
static char *render(struct arena *a, const char *name, const char *data_json)
{
	struct req r;
	struct json_object *data = json_tokener_parse(data_json);
	char *out;

	assert_non_null(data);
	memset(&r, 0, sizeof(r));
	r.arena = a;
	buf_init(&r.out, 1 << 20);
	buf_init(&r.headers, 1 << 16);
	strcpy(r.rid, "rid-1");
	assert_int_equal(tmpl_render(&r, name, data), AT_OK);
	out = arena_strdup(a, buf_cstr(&r.out));
	buf_cleanup(&r.out);
	buf_cleanup(&r.headers);
	json_object_put(data);
	return out;
}

static void load_ok(void)
{
	struct at_err err = { "" };

	tmpl_free(g_app.tmpl);
	g_app.tmpl = NULL;
	if (tmpl_load(dir, &g_app.tmpl, &err) != AT_OK)
		fail_msg("load failed: %s", err.msg);
}

static void test_escaping(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	clear();
	put("t", "<p title='{{n}}'>{{n}}</p><a href='{{u}}'>x</a><a href='/x?q={{n|url}}&amp;id={{id}}'>y</a>"
		 "<div data-x='{{o|json}}'></div><img src=\"{{bad}}\" alt=''>");
	load_ok();
	const char *out = render(a, "t", "{\"n\": \"<b>O'Neil & \\\"Co\\\"</b>\", \"u\": \"/app?s=1\","
				 "\"id\": 42, \"o\": {\"k\": \"</div>\"}, \"bad\": \"javascript:alert(1)\"}");
	assert_string_equal(out,
		"<p title='&lt;b&gt;O&#x27;Neil &amp; &quot;Co&quot;&lt;/b&gt;'>&lt;b&gt;O&#x27;Neil &amp; "
		"&quot;Co&quot;&lt;/b&gt;</p><a href='/app?s=1'>x</a>"
		"<a href='/x?q=%3Cb%3EO%27Neil%20%26%20%22Co%22%3C%2Fb%3E&amp;id=42'>y</a>"
		"<div data-x='{&quot;k&quot;:&quot;&lt;\\/div&gt;&quot;}'></div><img src=\"#\" alt=''>");
	/* URL attributes: http(s) and mailto pass, other schemes do not; relative always */
	put("u", "<a href='{{u}}'>x</a>");
	load_ok();
	assert_string_equal(render(a, "u", "{\"u\": \"https://x.edu/a\"}"), "<a href='https://x.edu/a'>x</a>");
	assert_string_equal(render(a, "u", "{\"u\": \"mailto:a@b.c\"}"), "<a href='mailto:a@b.c'>x</a>");
	assert_string_equal(render(a, "u", "{\"u\": \" JavaScript:x\"}"), "<a href='#'>x</a>");
	assert_string_equal(render(a, "u", "{\"u\": \"data:text/html,x\"}"), "<a href='#'>x</a>");
	assert_string_equal(render(a, "u", "{\"u\": \"a/b:c\"}"), "<a href='a/b:c'>x</a>");
	arena_free(a);
}

static void test_sections(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	clear();
	put("s", "{{#items}}[{{name}}:{{n}}{{#top}}!{{/top}}]{{/items}}{{^items}}none{{/items}}"
		 "{{#one}}({{k}}){{/one}}{{#flag}}F{{/flag}}{{^flag}}nf{{/flag}}{{#list}}({{.}}){{/list}}"
		 "{{a.b.c}}|{{x}}|{{d}}|{{z}}{{! a comment }}");
	load_ok();
	assert_string_equal(render(a, "s", "{\"top\": true, \"items\": [{\"name\": \"a\", \"n\": 1},"
				   "{\"name\": \"b\", \"n\": 2, \"top\": false}], \"one\": {\"k\": \"<v>\"},"
				   "\"flag\": 0, \"list\": [\"p\", 2], \"a\": {\"b\": {\"c\": \"deep\"}},"
				   "\"x\": null, \"d\": 85.5, \"z\": 85.0}"),
			    "[a:1!][b:2](&lt;v&gt;)nf(p)(2)deep||85.5|85");
	assert_string_equal(render(a, "s", "{\"items\": [], \"flag\": \"yes\"}"), "noneF|||");
	arena_free(a);
}

static void test_partials_and_layout(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	clear();
	put("layout", "<title>{{@title}}</title><main>{{>@body}}</main>");
	put("part/row", "<li>{{name}}</li>");
	put("page", "<ul>{{#rows}}{{>part/row}}{{/rows}}</ul>{{@s}}");
	load_ok();
	assert_string_equal(render(a, "page", "{\"rows\": [{\"name\": \"<x>\"}, {\"name\": \"y\"}]}"),
			    "<ul><li>&lt;x&gt;</li><li>y</li></ul>");
	arena_free(a);
}

static void test_refused(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "<script>var x = '{{x}}';</script>", "<script>" },
		{ "<style>p { color: {{c}} }</style>", "<script>" },
		{ "<a onclick='go({{x}})'>", "onclick" },
		{ "<p style='color: {{c}}'>", "style" },
		{ "<input value={{x}}>", "unquoted" },
		{ "<p {{attr}}='1'>", "tag or attribute name" },
		{ "<{{tag}}>", "tag or attribute name" },
		{ "</{{tag}}>", "tag or attribute name" },
		{ "<!-- {{x}} -->", "comment" },
		{ "{{#a}}open", "not closed" },
		{ "{{/a}}", "closes nothing" },
		{ "{{&x}}", "unescaped" },
		{ "{{{x}}}", "unescaped" },
		{ "{{x|raw}}", "unknown filter" },
		{ "{{>nope}}", "no template" },
		{ "<p title='{{>part}}'>", "partial" },
		{ "<p title='x", "ends inside" },
		{ "{{x", "without" },
	};
	struct at_err err;
	struct tmpl_set *t;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		clear();
		put("part", "p");
		put("bad", cases[i].text);
		memset(&err, 0, sizeof(err));
		t = NULL;
		if (tmpl_load(dir, &t, &err) == AT_OK) {
			tmpl_free(t);
			fail_msg("case %zu loaded: %s", i, cases[i].text);
		}
		if (strstr(err.msg, cases[i].why) == NULL || strstr(err.msg, "bad.html:1") == NULL)
			fail_msg("case %zu: error '%s' does not say '%s' at bad.html:1", i, err.msg,
				 cases[i].why);
	}
	/* values after a script element are text again; a script with a src is fine */
	clear();
	put("ok", "<script type='module' src='/static/{{js}}'></script><p>{{x}}</p><style>p{}</style>{{y}}");
	load_ok();
}

/* Every template the project ships loads. */
static void test_shipped(void **state)
{
	struct tmpl_set *t = NULL;
	struct at_err err = { "" };

	(void)state;
	if (tmpl_load("web/templates", &t, &err) != AT_OK)
		fail_msg("web/templates: %s", err.msg);
	tmpl_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_partials_and_layout),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_shipped),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);

	tmpl_free(g_app.tmpl);
	return rc;
}
