/*
 * The JSON form of an event, decoded once for recordings and serve's JSON
 * input; see event_json.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_json.h"

/* A string member, or NULL; *wrong when present but not a string. */
static const char *
get_str(json_t *o, const char *key, size_t *len, bool *wrong)
{
	json_t *v = json_object_get(o, key);

	*wrong = v != NULL && !json_is_string(v);
	if (v == NULL || *wrong)
		return NULL;
	*len = json_string_length(v);
	return json_string_value(v);
}

static const char *
decode_id(json_t *o, unsigned flags, struct event_json *ej)
{
	json_t *v = json_object_get(o, "id");

	if (v == NULL)
		return NULL;
	if (json_is_string(v)) {
		ej->ev.id = json_string_value(v);
		ej->ev.id_len = json_string_length(v);
	} else if (json_is_integer(v) && (flags & EVENT_JSON_LOOSE)) {
		snprintf(ej->idbuf, sizeof(ej->idbuf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		ej->ev.id = ej->idbuf;
		ej->ev.id_len = strlen(ej->idbuf);
	} else
		return flags & EVENT_JSON_LOOSE
		    ? "\"id\" is not a string or an integer"
		    : "\"id\" is not a string";
	ej->ev.has_id = true;
	return NULL;
}

static const char *
decode_data(json_t *o, unsigned flags, struct event_json *ej)
{
	json_t *v = json_object_get(o, "data");

	if (v == NULL)
		return NULL;
	if (json_is_string(v)) {
		ej->ev.data = json_string_value(v);
		ej->ev.data_len = json_string_length(v);
		return NULL;
	}
	if (!(flags & EVENT_JSON_LOOSE))
		return "\"data\" is not a string";
	if ((ej->dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return "out of memory";
	ej->ev.data = ej->dump;
	ej->ev.data_len = strlen(ej->dump);
	return NULL;
}

const char *
event_json_decode(json_t *o, unsigned flags, struct event_json *ej)
{
	const char *s, *why;
	size_t len = 0;
	bool wrong;
	json_t *v;

	memset(ej, 0, sizeof(*ej));
	sse_event_init(&ej->ev);
	v = json_object_get(o, "retry");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
		return "\"retry\" is not a whole number >= 0";
	if (v != NULL)
		ej->ev.retry = json_integer_value(v);
	ej->has_event = json_object_get(o, "data") != NULL ||
	    json_object_get(o, "event") != NULL;
	if (!ej->has_event && (flags & EVENT_JSON_ENTRY))
		return NULL;
	if ((why = decode_data(o, flags, ej)) != NULL)
		return why;
	/* As the parser does: an empty type is "message". */
	if ((s = get_str(o, "event", &len, &wrong)) != NULL && len > 0) {
		ej->ev.type = s;
		ej->ev.type_len = len;
	} else if (wrong)
		return "\"event\" is not a string";
	return decode_id(o, flags, ej);
}

void
event_json_release(struct event_json *ej)
{
	free(ej->dump);
	ej->dump = NULL;
}
