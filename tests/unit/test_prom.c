/*
 * lib/prom (the Prometheus text format) and lib/accesslog (--access-log
 * lines, tokens redacted).
 */
#include <math.h>
#include <string.h>

#include "accesslog.h"
#include "prom.h"
#include "tap.h"

static void
is_buf(struct sse_buf *b, const char *want, const char *name)
{
	is_mem(b->p, b->len, want, strlen(want), name);
	sse_buf_reset(b);
}

static void
test_prom(void)
{
	struct sse_buf b = SSE_BUF_INIT;

	prom_family(&b, "sse_clients", "gauge", "clients now\\ and\nthen");
	is_buf(&b,
	    "# HELP sse_clients clients now\\\\ and\\nthen\n"
	    "# TYPE sse_clients gauge\n",
	    "HELP and TYPE, help escaped");
	prom_one(&b, "sse_up", "gauge", "one", 7);
	is_buf(&b, "# HELP sse_up one\n# TYPE sse_up gauge\nsse_up 7\n",
	    "a family of one sample");
	prom_u64(&b, "sse_events_total", NULL, NULL, 0, 18446744073709551615u);
	is_buf(&b, "sse_events_total 18446744073709551615\n",
	    "a counter with no label, the largest");
	prom_u64(&b, "sse_events_total", "topic", "a\"b\\c\nd", 7, 3);
	is_buf(&b, "sse_events_total{topic=\"a\\\"b\\\\c\\nd\"} 3\n",
	    "a label value escaped");
	prom_f64(&b, "x", NULL, NULL, 0, 0.25);
	prom_f64(&b, "x", NULL, NULL, 0, INFINITY);
	prom_f64(&b, "x", NULL, NULL, 0, NAN);
	is_buf(&b, "x 0.25\nx +Inf\nx NaN\n", "floats, +Inf, NaN");
	sse_buf_release(&b);
}

static void
test_access(void)
{
	struct sse_buf b = SSE_BUF_INIT;
	struct access_rec r = {1796682600123, "127.0.0.1", "GET",
	    "/events?topic=a&token=s3cret&x=1", 200, 1234, 5012};

	access_log_line(&b, &r);
	is_buf(&b,
	    "{\"time\":\"2026-12-07T22:30:00.123Z\",\"peer\":\"127.0.0.1\","
	    "\"method\":\"GET\",\"path\":\"/"
	    "events?topic=a&token=REDACTED&x=1\","
	    "\"status\":200,\"bytes\":1234,\"duration_ms\":5012}\n",
	    "a request as a JSON line, the token redacted");
	access_redact(&b, "/events?%74oKen=s3cret;publish_token=p&token");
	is_buf(&b, "/events?%74oKen=REDACTED;publish_token=REDACTED&REDACTED",
	    "%-encoded, any case, other names with token, no value");
	access_redact(&b, "/?tok=1&a=%zz&token%=2");
	is_buf(&b, "/?tok=1&a=%zz&token%=REDACTED", "bad escapes kept");
	access_redact(&b, "/events");
	is_buf(&b, "/events", "no query");
	r.path = "/\"\x01";
	access_log_line(&b, &r);
	ok(strstr(b.p, "\"path\":\"/\\\"\\u0001\"") != NULL,
	    "the path as a JSON string");
	sse_buf_release(&b);
}

int
main(void)
{
	test_prom();
	test_access();
	return done_testing();
}
