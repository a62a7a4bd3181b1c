/* ctlj.c: a typed control response as JSON, by its shape's table. */
#include "ctlj.h"
#include "jsonmp.h"

static json_t *field_json(const struct ag_ctl_field *f, const char *v)
{
	const void *p = v + f->off;
	const char *items;
	json_t *a;
	size_t n;

	if (ag_ctl_field_nil(f, v))
		return json_null();
	switch (f->kind) {
	case AG_CTL_K_RAWMAP: /* checked canonical when it was decoded */
		return jsonmp_from_checked(((const struct ag_ctl_rawmap *)p)->p,
		                           ((const struct ag_ctl_rawmap *)p)->len);
	case AG_CTL_K_TEXT:
		return json_string(*(const char *const *)p ? *(const char *const *)p : "");
	case AG_CTL_K_UINT:
		return json_integer((json_int_t) * (const uint64_t *)p);
	case AG_CTL_K_BOOL:
		return json_boolean(*(const bool *)p);
	case AG_CTL_K_MAP:
		return ctlj_from(f->sub, p);
	case AG_CTL_K_ARRAY:
		items = *(const char *const *)p;
		n = *(const size_t *)(const void *)(v + f->count_off);
		a = json_array();
		for (size_t i = 0; a && i < n; i++)
			if (json_array_append_new(a, ctlj_from(f->sub, items + i * f->sub->size)) !=
			    0) {
				json_decref(a);
				a = NULL;
			}
		return a;
	default:
		return json_string(p);
	}
}

json_t *ctlj_from(const struct ag_ctl_shape *s, const void *v)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < s->nfields; i++) {
		const struct ag_ctl_field *f = &s->fields[i];

		if (!ag_ctl_shape_has(s, i) || (f->optional && ag_ctl_field_empty(f, v)))
			continue;
		if (json_object_set_new(o, f->name, field_json(f, v)) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}
