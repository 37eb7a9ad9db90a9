/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "prom.h"

void
rg_prom_init(struct rg_prom *p, char *buf, size_t cap)
{
	p->buf = buf;
	p->cap = cap;
	p->len = 0;
	p->truncated = cap == 0;
	if (cap > 0)
		buf[0] = '\0';
}

/* Appends one whole line or nothing. */
static void
line(struct rg_prom *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->truncated)
		return;
	va_start(ap, fmt);
	n = vsnprintf(p->buf + p->len, p->cap - p->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= p->cap - p->len) {
		p->buf[p->len] = '\0';
		p->truncated = 1;
		return;
	}
	p->len += (size_t)n;
}

/*
 * The length (1..4) of the UTF-8 sequence that starts at s, or 0 when the
 * bytes there are not one (a stray continuation byte, an overlong form, a
 * surrogate, past U+10FFFF, or cut short: the NUL fails the continuation test,
 * so nothing past it is read).
 */
static size_t
utf8_len(const unsigned char *s)
{
	int cont = (s[1] & 0xc0) == 0x80;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return cont ? 2 : 0;
	if (!cont || (s[2] & 0xc0) != 0x80)
		return 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef)
		return (s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ? 0 : 3;
	if (s[0] < 0xf0 || s[0] > 0xf4 || (s[3] & 0xc0) != 0x80)
		return 0;
	return (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f) ? 0 : 4;
}

/*
 * Copies s into out (size outlen) as the text format wants it: backslash,
 * newline and (quote = 1) '"' escaped; the text must be UTF-8, so a byte that
 * does not start a valid sequence becomes U+FFFD. When out is too small the
 * copy stops before a whole character or escape, never inside one. Bounded by
 * strlen(s): each step consumes at least one byte.
 */
static void
escape(char *out, size_t outlen, const char *s, int quote)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	size_t o = 0;

	while (*s != '\0') {
		size_t n = utf8_len((const unsigned char *)s);
		const char *from = s;
		size_t w = n;
		char esc[2];

		if (n == 0) {
			from = replacement;
			w = 3;
			n = 1;
		} else if (*s == '\\' || *s == '\n' || (quote && *s == '"')) {
			esc[0] = '\\';
			esc[1] = *s == '\n' ? 'n' : *s;
			from = esc;
			w = 2;
		}
		if (o + w >= outlen)
			break;
		memcpy(out + o, from, w);
		o += w;
		s += n;
	}
	out[o] = '\0';
}

void
rg_prom_family(struct rg_prom *p, const char *name, const char *type, const char *help)
{
	char h[512];

	escape(h, sizeof(h), help, 0);
	line(p, "# HELP %s %s\n# TYPE %s %s\n", name, h, name, type);
}

void
rg_prom_u64(struct rg_prom *p, const char *name, const struct rg_prom_labels *l, uint64_t v)
{
	if (l != NULL && l->len > 0)
		line(p, "%s{%s} %" PRIu64 "\n", name, l->s, v);
	else
		line(p, "%s %" PRIu64 "\n", name, v);
}

void
rg_prom_f64(struct rg_prom *p, const char *name, const struct rg_prom_labels *l, double v)
{
	char num[40];

	if (isnan(v))
		snprintf(num, sizeof(num), "NaN");
	else if (isinf(v))
		snprintf(num, sizeof(num), v > 0 ? "+Inf" : "-Inf");
	else
		snprintf(num, sizeof(num), "%.9g", v);
	if (l != NULL && l->len > 0)
		line(p, "%s{%s} %s\n", name, l->s, num);
	else
		line(p, "%s %s\n", name, num);
}

void
rg_prom_labels_init(struct rg_prom_labels *l)
{
	l->s[0] = '\0';
	l->len = 0;
	l->truncated = 0;
}

void
rg_prom_label(struct rg_prom_labels *l, const char *key, const char *value)
{
	char v[256];
	int n;

	if (l->truncated)
		return;
	escape(v, sizeof(v), value, 1);
	n = snprintf(l->s + l->len, sizeof(l->s) - l->len, "%s%s=\"%s\"", l->len ? "," : "", key,
		     v);
	if (n < 0 || (size_t)n >= sizeof(l->s) - l->len) {
		l->s[l->len] = '\0';
		l->truncated = 1;
		return;
	}
	l->len += (size_t)n;
}

void
rg_prom_label_u64(struct rg_prom_labels *l, const char *key, uint64_t value)
{
	char v[24];

	snprintf(v, sizeof(v), "%" PRIu64, value);
	rg_prom_label(l, key, v);
}
