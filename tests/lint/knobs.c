/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rg-knobs: the profile loader's knob table (control/profile.c) as the Markdown
 * rows of docs/config.md, so that the doc is pasted from it and checked against
 * it (check-config-doc.sh, test config_doc).
 *
 *   rg-knobs           "| path | type | default | range | unit | what it does |"
 *                      one row per knob, no header
 *   rg-knobs --names   the paths alone, one per line
 *
 * Both in table order: the top-level knobs grouped as rg_profile_dump() prints
 * them, then the peer knobs as "peers.[].key". A required knob's default is
 * "required"; an empty default is shown as "". No cell holds a bare '|', which
 * would split it: enum choices are joined with ", " and a '|' in a doc line is
 * escaped as "\|".
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "profile.h"

/* s with each '|' escaped, so that it stays one Markdown cell. */
static void
put_cell(const char *s, FILE *f)
{
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void
put_default(const struct rg_profile_knob *k, FILE *f)
{
	if ((k->flags & RG_PROFILE_F_REQUIRED) != 0 || k->def == NULL)
		fputs("required", f);
	else if (k->def[0] == '\0')
		fputs("\"\"", f);
	else
		put_cell(k->def, f);
}

/* "spin|pause|sleep" as "spin, pause, sleep". */
static void
put_choices(const char *c, FILE *f)
{
	for (; *c != '\0'; c++) {
		if (*c == '|')
			fputs(", ", f);
		else
			fputc(*c, f);
	}
}

/* What the loader accepts, in the words of its own range errors ("out of range 0 or 256..9572"). */
static void
put_range(const struct rg_profile_knob *k, FILE *f)
{
	switch (k->type) {
	case RG_PROFILE_T_INT:
	case RG_PROFILE_T_INT64:
		if ((k->flags & RG_PROFILE_F_ZERO_OK) != 0)
			fputs("0 or ", f);
		fprintf(f, "%" PRId64 "..", k->min);
		if (k->max == INT64_MAX)
			fputs("2^63-1", f);
		else
			fprintf(f, "%" PRId64, k->max);
		if ((k->flags & RG_PROFILE_F_POW2) != 0)
			fputs(", a power of two", f);
		break;
	case RG_PROFILE_T_FLOAT:
		fprintf(f, "%.15g..%.15g", k->fmin, k->fmax);
		break;
	case RG_PROFILE_T_STRING:
		fprintf(f, "%" PRId64 "..%" PRId64 " characters", k->min, k->max);
		break;
	case RG_PROFILE_T_BOOL:
		fputs("true, false", f);
		break;
	case RG_PROFILE_T_ENUM:
		put_choices(k->choices, f);
		break;
	case RG_PROFILE_T_IPV4:
		fputs("a.b.c.d", f);
		break;
	default: /* MAC: "" is all zero, which a required MAC refuses as unset */
		fputs((k->flags & RG_PROFILE_F_REQUIRED) != 0 ? "xx:xx:xx:xx:xx:xx"
							      : "xx:xx:xx:xx:xx:xx or \"\"",
		      f);
		break;
	}
}

static void
put_row(const struct rg_profile_knob *k, FILE *f)
{
	fprintf(f, "| %s | %s | ", k->path, rg_profile_type_name(k->type));
	put_default(k, f);
	fputs(" | ", f);
	put_range(k, f);
	fputs(" | ", f);
	put_cell(k->unit, f);
	fputs(" | ", f);
	put_cell(k->doc, f);
	fputs(" |\n", f);
}

int
main(int argc, char **argv)
{
	const struct rg_profile_knob *t;
	size_t n = rg_profile_knobs(&t);
	int names = argc == 2 && strcmp(argv[1], "--names") == 0;

	if (argc > 2 || (argc == 2 && !names)) {
		fprintf(stderr, "usage: rg-knobs [--names]\n");
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		if (names)
			printf("%s\n", t[i].path);
		else
			put_row(&t[i], stdout);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("rg-knobs: stdout");
		return 1;
	}
	return 0;
}
