// SPDX-License-Identifier: GPL-2.0
#include "text.h"

#include <string.h>

size_t pmb_utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void pmb_text_clean(const char *s, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (!len)
		return;
	while (*p) {
		size_t n = pmb_utf8_len(p);

		if (!n) {
			if (o + 1 >= len)
				break;
			out[o++] = '?';
			p++;
			continue;
		}
		if (o + n >= len)
			break;
		if (n == 1)
			out[o++] = *p < 0x20 || *p == 0x7f ? ' ' : (char)*p;
		else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			out[o++] = ' ';		/* a C1 control: NEL (U+0085) ends a line for some readers */
		else if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
			out[o++] = ' ';		/* U+2028, U+2029: line and paragraph separators */
		else
			memcpy(out + o, p, n), o += n;
		p += n;
	}
	out[o] = '\0';
}

void pmb_xml_put(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = pmb_utf8_len(p);

		if (!n) {
			fputc('?', f);
			p++;
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			/* XML 1.0 allows no control characters but tab and newline; CR is dropped too. */
			fputc(*p < 0x20 && *p != '\t' && *p != '\n' ? ' ' : *p == 0x7f ? ' ' : *p, f);
		}
		p++;
	}
}
